#!/usr/bin/env python3
"""Replays a log through fail2ban 1.0.2 itself, on the log's clock, for
f2b's end-to-end differential test (conformance/differential).

This file is f2b's own code: it imports fail2ban (PYTHONPATH must point at
an unpacked fail2ban package, see scripts/fetch-fail2ban.sh).

  f2breplay.py CONFDIR JAIL LOG NOW

The jail is loaded the way fail2ban-client does (Configurator: jail.conf,
jail.d, jail.local, filter.d) and its command stream is sent through
fail2ban-server's own Transmitter into a Server, which builds the Jail and
its Filter (failregex, prefregex, datepattern, maxlines, maxretry,
findtime, bantime, ...). Actions, log paths and journal matches are left
out: nothing runs, no file is followed. No thread is started; every line is
handed, in order, to Filter.processLineAndAdd, the method fail2ban-server's
file filters call for each line read, with MyTime set to the log's clock:

  for each line:
    date: the filter's own date detector, with MyTime at the previous time
          (NOW for the first line: it gives the year to year-less dates)
    now = max(now, date); MyTime is set to now
    unban every ban with now > end (BanManager.unBanList), in end order
    purge tickets whose last failure is <= now - findtime
      (FailManager.cleanup; a live server does this every few seconds,
      a replay before each line, see fail2ban-semantics.md section 8)
    Filter.processLineAndAdd(line): fail2ban's failure counting, which
      queues a ticket in the Jail when a host reaches maxretry
    each queued ticket goes through BanManager.addBanTicket, as
      Actions.__checkBan does (ban, or prolong when already banned)
  at the end: nothing more (f2b replay stops at the log's last line too);
  the bans still in force are counted.

Output: one JSON object per event:
  {"ev": "ban"|"prolong"|"unban", "host", "time", "end", "failures", ...}
then {"ev": "end", "lines": N, "failures": N, "banned": N}.
"""

import json
import sys

from fail2ban.client.configurator import Configurator
from fail2ban.server.banmanager import BanManager
from fail2ban.server.mytime import MyTime
from fail2ban.server.server import Server
from fail2ban.server.ticket import BanTicket
from fail2ban.server.transmitter import Transmitter

# Jail settings of the stream that are not about finding and counting
# failures: actions (nothing is run), where the log is (we feed lines) and
# the journal.
SKIP = {"addaction", "action", "addlogpath", "addjournalmatch", "logencoding"}


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")


def load_jail(confdir, name):
    c = Configurator()
    c.setBaseDir(confdir)
    c.readEarly()
    c.readAll()
    c.getOptions()
    c.convertToProtocol(allow_no_files=True)
    server = Server()
    tr = Transmitter(server)
    for cmd in c.getConfigStream():
        if len(cmd) < 2 or cmd[1] != name:
            continue  # server-wide settings (log target, database) and other jails
        if cmd[0] not in ("add", "set", "multi-set"):
            continue  # "start": no threads here
        if cmd[0] != "add" and cmd[2] in SKIP:
            continue
        code, res = tr.proceed(cmd)
        if code != 0:
            raise SystemExit("command %r failed: %r" % (cmd, res))
    return server._Server__jails[name]


class Replay:
    def __init__(self, jail):
        self.jail = jail
        self.flt = jail.filter
        self.fm = self.flt.failManager
        self.bm = BanManager()
        self.bm.setBanTime(jail.actions.getBanTime())
        self.seq = 0
        self.failures = 0
        orig = self.fm.addFailure

        def counted(ticket, *a, **k):
            self.failures += 1
            return orig(ticket, *a, **k)

        self.fm.addFailure = counted

    def describe(self, ev, banned, cause):
        default = self.bm.getBanTime()
        return {
            "ev": ev,
            "host": str(banned.getID()),
            "time": cause.getTime(),
            "start": banned.getTime(),
            "bantime": banned.getBanTime(default),
            "end": banned.getEndOfBanTime(default),
            "failures": cause.getAttempt(),
        }

    def unban(self, now):
        default = self.bm.getBanTime()
        tickets = self.bm.unBanList(now)
        tickets.sort(key=lambda tk: (tk.getEndOfBanTime(default), tk.seq))
        for tk in tickets:
            out({"ev": "unban", "host": str(tk.getID()), "end": tk.getEndOfBanTime(default),
                 "start": tk.getTime()})

    def checkBan(self):
        while True:
            ticket = self.jail.getFailTicket()
            if not ticket:
                return
            bTicket = BanTicket.wrap(ticket)
            reason = {}
            if self.bm.addBanTicket(bTicket, reason=reason):
                bTicket.seq = self.seq
                self.seq += 1
                out(self.describe("ban", bTicket, bTicket))
            elif reason.get("prolong"):
                out(self.describe("prolong", reason["ticket"], bTicket))

    def run(self, log, final):
        now = None
        lines = 0
        with open(log, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                line = line.rstrip("\r\n")
                lines += 1
                MyTime.setTime(final if now is None else now)
                found = self.flt.dateDetector.getTime(line)
                if found:
                    t = found[0]
                    now = t if now is None or t > now else now
                if now is None:
                    continue
                MyTime.setTime(now)
                self.unban(now)
                self.fm.cleanup(now)
                self.flt.processLineAndAdd(line)
                self.checkBan()
        out({"ev": "end", "lines": lines, "failures": self.failures, "banned": self.bm.size()})


def main():
    confdir, name, log, final = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    Replay(load_jail(confdir, name)).run(log, final)


if __name__ == "__main__":
    main()
