// Package fwcmd implements sink "fwcmd": bans go through a firewall's own
// program, for machines whose firewall is managed by firewalld, ufw,
// shorewall or pf, as fail2ban's firewallcmd-rich-rules, ufw, shorewall
// and pf actions do it.
//
//	sink "fwcmd" "ufw" {
//	  inputs   = [counter.sshd]
//	  tool     = "ufw"          # "firewalld", "ufw", "shorewall" or "pf"
//	  bin      = "/usr/sbin/ufw" # optional: the program (bin6: shorewall6)
//	  ports    = [22]           # empty (the default): all ports
//	  protocol = "tcp"          # "udp", a list, or "all"
//	  block    = "drop"         # or "reject"
//	  prefix_v4 = 24            # optional: ban the whole network
//	  flush_on_stop = false
//	}
//
// What each tool gets (the program is run directly, never through a
// shell, so nothing needs quoting):
//
//	firewalld  firewall-cmd --add-rich-rule=rule family="ipv4" source address="192.0.2.1" port port="22" protocol="tcp" drop --timeout=3600s
//	           firewall-cmd --remove-rich-rule=…            (unban; a prolong removes and adds with the new timeout)
//	ufw        ufw prepend deny from 192.0.2.1 to any port 22 proto tcp comment f2b
//	           ufw delete deny from 192.0.2.1 to any port 22 proto tcp
//	shorewall  shorewall drop 192.0.2.1 192.0.2.2           (shorewall6 for IPv6; reject with block = "reject")
//	           shorewall allow 192.0.2.1
//	pf         pfctl -a f2b/sshd -f -                       (at a jail's first ban: its table and rule)
//	             table <f2b-sshd> persist counters
//	             block quick proto tcp from <f2b-sshd> to any port 22
//	           pfctl -a f2b/sshd -t f2b-sshd -T add 192.0.2.1 192.0.2.2
//	           pfctl -a f2b/sshd -t f2b-sshd -T delete 192.0.2.1
//
// firewalld's rules are runtime ones (a reload of firewalld drops them;
// the next start of f2b puts them back) with firewalld's own timeout, so
// a ban ends even when f2b is down. ufw's rules carry the comment "f2b",
// which marks them as the sink's. pf needs `anchor "f2b/*"` in the main
// ruleset (pf.conf) for the anchors' rules to apply. Shorewall's dynamic
// blacklist blocks every port; it takes no ports.
//
// firewalld, ufw and shorewall rules belong to the machine, not to a
// jail: a rule stays while any jail bans its host. pf has a table per
// jail.
//
// # Batches, start and stop
//
// shorewall and pfctl take many addresses per run: each batch of actions
// is one run per family (shorewall) or jail (pf) and kind. ufw and
// firewall-cmd take one host per run, a few tenths of a second each:
// they suit a few bans a minute, not thousands (use sink "nftables" or
// "iptables" for those).
//
// At start the sink reads back what it can: pf's tables (pfctl -T show)
// and ufw's rules with its comment (ufw show added), and reconciles them
// with the restored bans (missing bans are added, present ones left
// alone, those no ban wants deleted 10 s after the start). firewalld's
// and shorewall's state cannot be read back: the restored bans are
// applied again (both take a ban that is there without harm), and a ban
// that ended while f2b was down stays in shorewall until its next
// restart (firewalld's timeout ends it). With flush_on_stop = true the
// sink lifts the bans it applied (and empties pf's anchors).
//
// # Failures
//
// A failed run is logged with the program's standard error and counted
// (Stats "fwcmd_errors", beside "fwcmd_batches", "fwcmd_elements_added"
// and "fwcmd_elements_deleted"); the bans of that run are retried with
// backoff from 1 s to 1 min, while newer actions go on.
package fwcmd
