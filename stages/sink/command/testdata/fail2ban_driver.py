#!/usr/bin/env python3
# Differential-test driver for sink "command" (f2b's own code, not part of
# fail2ban). It runs each case of a JSON case file through fail2ban's own
# CommandAction (fail2ban's Python package must be on PYTHONPATH) and prints,
# as JSON, the commands fail2ban would execute: every call of
# CommandAction.executeCmd is recorded (the script, then the values passed
# as positional parameters) instead of being run.
#
#   PYTHONPATH=.../dist-packages python3 fail2ban_driver.py CONFDIR < cases.json
#
# For a case naming an action.d file, fail2ban's client reads and
# interpolates it (ActionReader) and the server-side action is built from
# the resulting options, as `fail2ban-client start` would; the output then
# also holds each command with its static tags resolved per family
# (replaceTag), which is what `f2b import` hands to sink "command". For a
# custom case the commands and tags are set on the action as written.
#
# Deliberate adjustments, each matching what sink "command" documents:
#   - DNS: <ip-host> is "" and the host names are fixed (HOSTNAME).
#   - <jail.name> is added to ActionInfo (fail2ban 1.0.2 lacks it).
#   - IPv6 is taken as allowed.
#   - the jail counts (<jail.banned>, <jail.found>, ...) are kept by this
#     driver the way the sink keeps them, and ActionInfo of start/stop is
#     not cached between operations.
import json
import logging
import sys

from fail2ban.client.actionreader import ActionReader
from fail2ban.server import action as actionmod
from fail2ban.server.action import CommandAction
from fail2ban.server.actions import Actions
from fail2ban.server.ipdns import DNSUtils, IPAddr
from fail2ban.server.mytime import MyTime
from fail2ban.server.ticket import BanTicket

logging.disable(logging.CRITICAL)

HOSTNAME = "host.example.org"
NOW = 1700000100.5
HOOKS = ["start", "stop", "check", "ban", "unban", "flush", "repair", "reban", "prolong"]
FAMILIES = ["", "inet4", "inet6"]

DNSUtils.getHostname = staticmethod(lambda fqdn=True: HOSTNAME if fqdn else HOSTNAME.split(".")[0])
IPAddr.getHost = lambda self: ""
actionmod.allowed_ipv6 = lambda: True
Actions.ActionInfo.AI_DICT["jail.name"] = lambda self: self._ActionInfo__jail.name
MyTime.setTime(NOW)


class Recorder:
    """Stands in for CommandAction.executeCmd: records and fails on demand."""

    def __init__(self, fail):
        self.execs = []
        self.fail = [dict(f) for f in fail or []]

    def __call__(self, realCmd, timeout=60, **kwargs):
        if not realCmd:
            return True
        argv = list(realCmd) if isinstance(realCmd, list) else [realCmd]
        self.execs.append(argv)
        for f in self.fail:
            if f["times"] > 0 and f["contains"] in argv[0]:
                f["times"] -= 1
                return False
        return True


class FakeJail:
    """The parts of a Jail that CommandAction and ActionInfo read."""

    def __init__(self, name, bantime):
        jail = self
        self.name = name
        self.database = None
        self.held = {}  # ip -> ticket, in ban order
        self.counts = dict(banned=0, banned_total=0, found=0, found_total=0)

        class BanManager:
            @staticmethod
            def size():
                return jail.counts["banned"]

            @staticmethod
            def getBanTotal():
                return jail.counts["banned_total"]

        class FailManager:
            @staticmethod
            def size():
                return jail.counts["found"]

            @staticmethod
            def getFailTotal():
                return jail.counts["found_total"]

        class FakeActions:
            banManager = BanManager

            @staticmethod
            def getBanTime():
                return bantime

            @staticmethod
            def _getActionInfo(ticket):
                if not ticket:
                    ticket = BanTicket("", MyTime.time())
                return Actions.ActionInfo(ticket, jail)

        class FakeFilter:
            failManager = FailManager

        self.actions = FakeActions()
        self.actions.banEpoch = 0
        self.filter = FakeFilter()


def ticket_of(op):
    data = {"failures": op.get("failures", 0)}
    data.update(op.get("fields") or {})
    t = BanTicket(op["ip"], float(op.get("time", 0)), op.get("matches") or [], data=data)
    t.setBanTime(op.get("bantime", 600))
    t.setBanCount(op.get("bancount", 1), always=True)
    t.restored = op.get("restored", False)
    return t


def build_action(case, confdir, jail):
    name = case.get("file") or "custom"
    act = CommandAction(jail, name)
    if case.get("file"):
        init = dict(case.get("init") or {})
        reader = ActionReader(case["file"], jail.name, init, basedir=confdir)
        if not reader.read():
            raise SystemExit("cannot read action %s" % case["file"])
        reader.getOptions({})
        for cmd in reader.convert():
            if cmd[1:3] == [jail.name, "addaction"]:
                continue
            if cmd[0] == "multi-set":
                for opt, val in cmd[4]:
                    setattr(act, opt, val)
            elif cmd[0] == "set":
                setattr(act, cmd[4], cmd[5])
    else:
        for hook, cmd in (case.get("commands") or {}).items():
            setattr(act, "action" + hook, cmd)
        for fam, cmds in (case.get("family") or {}).items():
            # A family block, even an empty one, is a conditional section.
            setattr(act, "f2bcond?family=" + fam, "")
            for hook, cmd in cmds.items():
                setattr(act, "action%s?family=%s" % (hook, fam), cmd)
        for tag, val in (case.get("tags") or {}).items():
            if tag == "bantime":
                continue  # the jail's ban time, see FakeJail
            setattr(act, tag, val)
    if case.get("start_on_demand") is not None:
        act.actionstart_on_demand = case["start_on_demand"]
    if case.get("no_restored"):
        act.norestored = True
    if case.get("repair_on_unban"):
        act.actionrepair_on_unban = True
    return act


def static_commands(act):
    out = {}
    for hook in HOOKS:
        per = {}
        for fam in FAMILIES:
            per[fam] = CommandAction.replaceTag(
                "<action%s>" % hook, act._properties,
                conditional=("family=" + fam if fam else ""))
            if per[fam] == "<action%s>" % hook:
                per[fam] = ""
        out[hook] = per
    return out


def safe(f, *args):
    try:
        f(*args)
    except Exception:
        pass


def run_case(case, confdir):
    jail = FakeJail(case.get("jail", "sshd"), case.get("bantime", 600))
    act = build_action(case, confdir, jail)
    result = {
        "name": case["name"],
        "static": static_commands(act),
        "start_on_demand": bool(act._startOnDemand),
        "conditional": bool(act._hasCondSection),
    }
    rec = Recorder(case.get("fail"))
    CommandAction.executeCmd = staticmethod(rec)
    c = jail.counts

    def info(t):
        return Actions.ActionInfo(t, jail)

    for op in case["ops"]:
        # A fresh ActionInfo for start/stop/flush, see the header.
        if hasattr(jail.actions, "actionInfo"):
            delattr(jail.actions, "actionInfo")
        kind = op["op"]
        if kind == "start":
            safe(act.start)
        elif kind == "ban":
            t = ticket_of(op)
            jail.held[op["ip"]] = t
            c["banned"] += 1
            c["banned_total"] += 1
            c["found"] += t.getAttempt()
            c["found_total"] += t.getAttempt()
            if t.restored and getattr(act, "norestored", False):
                continue
            safe(act.ban, info(t))
        elif kind == "prolong":
            t = jail.held[op["ip"]]
            t.setBanTime(op["bantime"])
            if t.restored and getattr(act, "norestored", False):
                continue
            if not act._prolongable:
                continue
            safe(act.prolong, info(t))
        elif kind == "unban":
            t = jail.held.pop(op["ip"], None)
            if t is None:  # not banned here: the ticket of the unban alone
                t = ticket_of(op)
            else:
                c["banned"] -= 1
                c["found"] -= t.getAttempt()
            safe(act.unban, info(t))
        elif kind == "stop":
            held = list(jail.held.values())
            jail.held.clear()
            c["banned"] = 0
            c["found"] = 0
            if act.actionflush:
                try:
                    act.flush()
                except Exception:
                    def before():
                        return bool(getattr(act, "actionrepair_on_unban", None))
                    act.consistencyCheck(before)
            else:
                for t in held:
                    safe(act.unban, info(t))
            safe(act.stop)
        else:
            raise SystemExit("unknown op %r" % kind)
    result["execs"] = rec.execs
    return result


def main():
    confdir = sys.argv[1]
    cases = json.load(sys.stdin)
    json.dump([run_case(c, confdir) for c in cases], sys.stdout, indent=1)


if __name__ == "__main__":
    main()
