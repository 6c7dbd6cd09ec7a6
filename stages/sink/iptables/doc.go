// Package iptables implements sink "iptables": banned hosts go into ipset
// sets that one iptables rule per jail matches, or, without ipset, into
// one iptables rule each.
//
//	sink "iptables" "drop" {
//	  inputs    = [counter.sshd]
//	  use_ipset = "auto"        # the default: ipset when it is installed; or true, false
//	  iptables  = "iptables"    # or "iptables-legacy", "iptables-nft", a path
//	  hook      = "input"       # "forward", or ["input", "forward"]
//	  # chain   = "INPUT"       # instead of hook: the one chain that jumps to the jails' chains
//	  ports     = [22, "8000-8080"]   # empty (the default): all ports
//	  protocol  = "tcp"         # "udp", "sctp", "dccp", "udplite", a list, or "all"
//	  block     = "drop"        # or "reject"
//	  prefix_v4 = 24            # optional: ban the whole network
//	  prefix_v6 = 64
//	  flush_on_stop = false     # the default: bans outlive f2b
//	}
//
// The IPv6 program is named after the IPv4 one (ip6tables,
// ip6tables-legacy; attribute ip6tables overrides it), and so are the
// -save and -restore programs. Debian's iptables is the nf_tables flavour;
// the sink works the same on either.
//
// # What it keeps in the kernel
//
// Each jail has a chain f2b-JAIL in the filter table of both families,
// which the built-in chain of each hook (INPUT, FORWARD) jumps to at
// position 1, once per protocol (and per 15 ports), as fail2ban's
// iptables actions do:
//
//	-A INPUT -p tcp -m multiport --dports 22,8000:8080 -j f2b-sshd
//
// With ipset the chain holds one rule, and the jail has two sets,
// f2b-JAIL (family inet) and f2b-JAIL-v6 (family inet6), of type hash:ip
// (hash:net with a prefix), created with timeout 0 so each element has a
// timeout of its own:
//
//	-A f2b-sshd -m set --match-set f2b-sshd src -j DROP
//	add f2b-sshd 203.0.113.7 timeout 3600
//
// A ban adds the element with the time left of the ban as its timeout
// (rounded up to whole seconds; 0, none, for a permanent ban or one
// longer than ipset's 2147483 s), a prolong adds it again with the new
// timeout, an unban deletes it. Every batch of actions is one `ipset
// restore -exist`, so 20,000 bans take a fraction of a second.
//
// Without ipset the chain holds one rule per banned address or network,
// changed with one `iptables-restore --noflush` per family and batch:
//
//	-A f2b-sshd -s 203.0.113.7/32 -j DROP
//
// This scales worse: the kernel walks the rules one by one for every
// packet that reaches the chain, and each deletion searches the chain, so
// thousands of bans cost CPU on every new connection (ipset's lookup is
// one hash probe whatever the number of bans). The
// rules have no timeouts: an unban removes them, and the next start
// removes those whose ban ended while f2b was down.
//
// Block "reject" answers with a TCP reset when the protocol is tcp alone,
// else with ICMP port unreachable. A jail name that chain and set names
// cannot hold as it is (letters, digits, '_', '.', '-', up to 24) becomes
// "j" and a hash of the name.
//
// Sinks must not share jails, and the sink must not run beside
// fail2ban's iptables actions for the same jails: they use the same
// chain and set names.
//
// # Hooks
//
// INPUT sees the packets addressed to this host. Packets the host routes
// (a router's clients, or the published ports of Docker or Kubernetes
// containers, which are DNATed to the container before filtering) go
// through FORWARD instead and never reach INPUT. With hook = "forward"
// the jails' chains are jumped to from FORWARD, with ["input",
// "forward"] from both, with the same rules and sets: a ban is one
// element whatever the hooks. Docker's own FORWARD rules accept the
// published traffic, so a jump below them would never be reached: the
// sink inserts its jumps at the top of FORWARD, as it does in INPUT. At
// FORWARD a container's port is the one it listens on, not the published
// one (-p 8080:80 is port 80 there): name those in ports, or leave ports
// empty. A restart with fewer hooks removes the jumps from the chain of
// the hook no longer configured. Attribute chain, the one chain to jump
// from (such as a chain of the admin's), is the older way, and cannot be
// set with hook.
//
// # Start and restart
//
// At start, and at the first ban of a jail, the sink reads the filter
// table (iptables-save) and the sets (ipset save), creates the sets and
// chains that are missing, inserts the jumps that are missing (each
// checked with iptables -C first), deletes jumps to its chains that are
// not configured ones (other ports, or the chain of another hook, before
// a restart), and rewrites its chain's rule when it is not the configured
// one. It touches no rule but its jumps and its chains'. A set of another
// type (hash:ip before a prefix was configured) is replaced. Elements are
// then reconciled as sink "nftables" does it, without flushing: missing
// ones are added, those whose timeout is more than 5 s off are updated,
// matching ones are left alone (a restart with 20,000 bans changes
// nothing), and those no ban wants are deleted 10 s after the start.
//
// # Stop
//
// By default the chains, jumps and sets stay: bans survive a restart of
// f2b and ipset's timeouts end them if f2b stays down. With flush_on_stop
// = true the sink removes its jumps (from INPUT, FORWARD and chain
// alike), chains and sets.
//
// # Failures
//
// A failed program is logged with its standard error and counted
// (Stats "iptables_errors", beside "iptables_batches",
// "iptables_elements_added" and "iptables_elements_deleted"). The sink
// then reads the kernel again and applies every difference, with backoff
// from 1 s to 1 min while that fails; new actions go on in their own
// batches meanwhile. Without the programs, Run fails at once naming them
// (CheckEnv reports them beforehand).
//
// What is removed without a failed batch (`iptables -F` or
// `netfilter-persistent reload`, `ufw reload`, an admin deleting a chain
// or a set) is found by a check every 30 s, in both families: iptables -C
// of each jump (from every configured hook's chain) and of a jail
// chain's set rule, iptables -S CHAIN 1 (a chain emptied of its ban
// rules), and `ipset list -n`: never a listing of the bans. When
// something is missing, the sink resyncs at once, putting back the
// chains, jumps, sets and every ban in force, and logs one warning
// naming what was missing and how many elements it restored.
package iptables
