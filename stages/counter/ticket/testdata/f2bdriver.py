#!/usr/bin/env python3
"""Drives fail2ban's own ticket classes over a stream of failures and prints
the ban decisions, for f2b's differential test of counter "ticket".

This file is f2b's own code: it imports fail2ban (PYTHONPATH must point at
an unpacked fail2ban package, see scripts/fetch-fail2ban.sh) and calls its
FailManager, FailTicket, BanTicket, BanManager, ObserverThread (failureFound,
banFound, incrBanTime), Jail.setBanTimeExtra (the bantime.* formula) and
Fail2BanDb (in memory), the way fail2ban-server's filter, actions and
observer threads call them, but synchronously and on the log's clock:

  for each failure at t (in input order):
    now = max(now, t); MyTime is set to now
    unban every ban with now > end (BanManager.unBanList), in end order
    purge tickets whose last failure is <= now - findtime (FailManager.cleanup)
    filter: FailManager.addFailure; if retry >= maxretry -> performBan
    observer (increment only): failureFound, which may add retries and ban

A ban goes through BanManager.addBanTicket and, when it is new, the
observer's banFound (which computes the increased ban time and writes the
database) before it is printed, so its ban time is the final one.

Input on stdin: one JSON object of options, then one JSON object per
failure: {"t": seconds, "host": "192.0.2.1", "lines": ["..."]}.
Output: one JSON object per event: {"ev": "ban"|"prolong"|"unban", ...}.
"""

import json
import sys

from fail2ban.server.banmanager import BanManager
from fail2ban.server.database import Fail2BanDb
from fail2ban.server.failmanager import FailManager, FailManagerEmpty
from fail2ban.server.ipdns import IPAddr
from fail2ban.server.jail import Jail
import fail2ban.server.jail as jailmod
from fail2ban.server.mytime import MyTime
from fail2ban.server.observer import ObserverThread
from fail2ban.server.ticket import BanTicket, FailTicket

MASK64 = (1 << 64) - 1


class SplitMix:
    """SplitMix64, the generator f2b seeds for ban_time_rnd; it replaces
    the random module that fail2ban's bantime.rndtime lambda calls."""

    def __init__(self, seed):
        self.s = seed & MASK64

    def random(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z = z ^ (z >> 31)
        return (z >> 11) / float(1 << 53)


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")


class Driver:
    def __init__(self, opts):
        self.fm = FailManager()
        self.fm.setMaxRetry(opts["max_retry"])
        self.fm.setMaxTime(opts["find_time"])
        self.fm.maxMatches = opts["max_matches"]
        self.bm = BanManager()
        self.bm.setBanTime(opts["ban_time"])
        self.seq = 0
        self.increment = opts.get("increment", False)

        driver = self

        class Filter:
            failManager = self.fm

            def performBan(self, ip=None):
                driver.performBan(ip)

        class Actions:
            def getBanTime(self):
                return driver.bm.getBanTime()

        class FakeJail:
            # Jail's own bantime.* code, run on this object.
            getBanTimeExtra = Jail.getBanTimeExtra
            setBanTimeExtra = Jail.setBanTimeExtra

            def isAlive(self):
                return True

        jail = FakeJail()
        jail.name = "test"
        jail._banExtra = {}
        jail.filter = Filter()
        jail.actions = Actions()
        jail.database = Fail2BanDb(":memory:")
        jail.database.addJail(jail)
        self.jail = jail
        jailmod.random = SplitMix(opts.get("seed", 0))
        # The order fail2ban's configuration reader sends them in.
        if self.increment:
            jail.setBanTimeExtra("increment", "true")
        for key in ("factor", "formula", "multipliers", "maxtime", "rndtime"):
            if opts.get(key) is not None:
                jail.setBanTimeExtra(key, opts[key])
        if jail.getBanTimeExtra("evformula") is None:
            jail.setBanTimeExtra("factor", None)

        self.obs = ObserverThread()
        # The prolong timer only re-runs actions; the new end is already in
        # the ticket. No threads here.
        self.obs.add_timer = lambda *a, **k: None

    def performBan(self, ip=None):
        while True:
            try:
                ticket = self.fm.toBan(ip)
            except FailManagerEmpty:
                break
            self.checkBan(ticket)
            if ip:
                break

    def checkBan(self, ticket):
        # Actions.__checkBan, without the actions.
        bTicket = BanTicket.wrap(ticket)
        btime = ticket.getBanTime(self.bm.getBanTime())
        reason = {}
        if self.bm.addBanTicket(bTicket, reason=reason):
            self.obs.banFound(bTicket, self.jail, btime)
            bTicket.seq = self.seq
            self.seq += 1
            out(self.describe("ban", bTicket, bTicket))
        elif reason.get("prolong"):
            old = reason["ticket"]
            out(self.describe("prolong", old, bTicket))

    def describe(self, ev, banned, cause):
        default = self.bm.getBanTime()
        bt = banned.getBanTime(default)
        return {
            "ev": ev,
            "host": str(banned.getID()),
            "time": cause.getTime(),
            "start": banned.getTime(),
            "bantime": bt,
            "end": None if bt == -1 else banned.getEndOfBanTime(default),
            "failures": cause.getAttempt(),
            "bancount": banned.getBanCount(),
            "matches": cause.getMatches(),
        }

    def failure(self, now, t, host, lines):
        MyTime.setTime(now)
        default = self.bm.getBanTime()
        unbans = self.bm.unBanList(now)
        unbans.sort(key=lambda tk: (tk.getEndOfBanTime(default), tk.seq))
        for tk in unbans:
            out({"ev": "unban", "host": str(tk.getID()), "end": tk.getEndOfBanTime(default),
                 "start": tk.getTime(), "bancount": tk.getBanCount()})
        self.fm.cleanup(now)
        ip = IPAddr(host)
        tick = FailTicket(ip, t, data={"matches": list(lines)})
        attempts = self.fm.addFailure(tick)
        if attempts >= self.fm.getMaxRetry():
            self.performBan(ip)
        if self.increment:
            self.obs.failureFound(self.jail, tick)


def main():
    opts = json.loads(sys.stdin.readline())
    d = Driver(opts)
    now = None
    for line in sys.stdin:
        if not line.strip():
            continue
        f = json.loads(line)
        t = f["t"]
        now = t if now is None or t > now else now
        d.failure(now, t, f["host"], f.get("lines", []))
    out({"ev": "end"})


if __name__ == "__main__":
    main()
