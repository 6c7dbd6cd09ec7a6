// Package nftables implements sink "nftables": banned hosts go into
// nftables sets of a table of the sink's own, and a chain at the input hook
// (and, or instead, at the forward hook) drops (or rejects) their packets.
//
//	sink "nftables" "drop" {
//	  inputs    = [counter.sshd, counter.nginx]
//	  ports     = [22, "8000-8080"]   # empty (the default): all ports
//	  protocol  = "tcp"               # "udp", "sctp", a list, or "all"
//	  block     = "drop"              # or "reject"
//	  hook      = "input"             # "forward", or ["input", "forward"]
//	  table     = "f2b"               # family inet; the default
//	  priority  = -10                 # before a usual filter chain
//	  prefix_v4 = 24                  # optional: ban the whole network
//	  prefix_v6 = 64
//	  flush_on_stop = false           # the default: bans outlive f2b
//	}
//
// # What it keeps in the kernel
//
// In table inet f2b, each jail has two sets, JAIL_v4 (ipv4_addr) and
// JAIL_v6 (ipv6_addr), with flags timeout (and interval with prefix_v4 or
// prefix_v6), and the sink has one chain per hook, input_NAME at the
// input hook and forward_NAME at the forward hook (NAME: the block's
// name), each with the same two rules per jail:
//
//	table inet f2b {
//	  set sshd_v4 { type ipv4_addr; flags timeout; elements = { 203.0.113.7 timeout 1h } }
//	  set sshd_v6 { type ipv6_addr; flags timeout; }
//	  chain input_drop {
//	    type filter hook input priority filter - 10; policy accept;
//	    ip saddr @sshd_v4 tcp dport { 22, 8000-8080 } counter drop
//	    ip6 saddr @sshd_v6 tcp dport { 22, 8000-8080 } counter drop
//	  }
//	}
//
// # Hooks
//
// The input hook sees the packets addressed to this host. Packets the
// host routes on never reach it: on a Docker, Kubernetes or router host,
// a container's published port is reached through the forward hook (as
// fail2ban's chain = forward, or iptables' DOCKER-USER chain). With hook
// = "forward" the sink's chain is forward_NAME, at the forward hook; with
// ["input", "forward"] it has both chains, with the same rules, sets and
// priority (reject works at both hooks). Docker DNATs published traffic
// before the forward hook, so there a container's port is the one it
// listens on, not the published one (-p 8080:80 is port 80 there): name
// those in ports, or leave ports empty. A restart with fewer hooks
// removes the chain of the hook no longer configured.
//
// A ban adds the element with the time left of the ban as its timeout
// (rounded up to whole seconds; none for a permanent ban), a prolong
// replaces it with the new timeout, an unban deletes it. With a prefix the
// element is the host's network, which stays while any banned host of the
// jail is in it, with the latest end among them. A jail whose name nft
// cannot take as it is (it must be a letter, then up to 31 letters,
// digits, '_' or '-') gets sets named j_ and a hash of the name.
//
// Sinks may share a table: each has its own chains. Their jails must differ
// (two sinks feeding one set would undo each other's reconciliation); give
// each its own table otherwise. The sink never touches another table.
//
// # Why nft -f -
//
// Every change goes through one `nft -f -` process per batch, not a netlink
// library: no dependency, nft's own transactions (a batch applies whole or
// not at all), and the script is the exact syntax admins know and can run
// by hand. Batches are cheap: actions that arrive while nft runs go into
// the next batch (up to 5000 elements), and 20,000 bans take a fraction of
// a second. A jail's first ban declares its sets and the chains' rules in
// the transaction of its elements. Only names the sink checked and
// addresses it formatted itself go into a script, so nothing in it needs
// escaping. The batching, reconciliation and retries are those of the
// other firewall sinks (package fwsync); this package knows nft.
//
// # Start and restart
//
// The sink starts from the kernel as it is: it reads its table (`nft -j
// list table inet f2b`), creates the table, chains and sets when missing
// (never flushing elements), and replaces its own chains' rules by the
// configured ones in the same transaction, so a chain is never without
// them. Its sets are those its chains refer to and those of the jails it
// sees. A set whose type or flags differ from the configuration is
// replaced, and one whose elements have another prefix length is flushed.
//
// Bans restored from the ban store come first, as a burst; the burst ends
// at the first action that is not a restored one, or 200 ms after the last
// restored one. The sink then reconciles, in one transaction: elements the
// bans want and the kernel lacks are added, those whose timeout is more
// than 5 s off the ban's end are replaced, those that match are left
// untouched, so a restart with 20,000 bans changes no element. Kernel
// elements no ban wants are deleted 10 s later (unless a late burst claims
// them by then), so a counter slower to restore its bans never leaves a
// gap in the kernel.
//
// # Stop
//
// By default the table and its elements stay: bans survive a restart of
// f2b and the kernel's timeouts end them if f2b stays down. With
// flush_on_stop = true the sink removes its chains and sets, and the
// table when nothing else is left in it.
//
// # Failures
//
// A failed nft run is logged with nft's standard error and counted
// (Stats "nft_errors", beside "nft_batches", the transactions that changed
// elements, "nft_elements_added" and "nft_elements_deleted"). Nothing of a
// failed batch applied, so the sink then resyncs: it reads the table
// again, repairs the table, chains, sets and rules (an admin's `nft flush
// ruleset` is undone this way), and applies every difference. While that
// fails, it is retried with backoff from 1 s to 1 min; new actions go on
// in their own batches meanwhile.
//
// A table or chain removed without a failed batch (`nft flush ruleset`
// by a reload of nftables.service, an admin deleting the table or a
// chain, flushing a chain's rules) is found by a check every 30 s: `nft
// list tables inet` and `nft -j list chain inet f2b CHAIN` of each hook's
// chain (never the sets' elements, so it costs the same with 20,000 bans
// as with none). When the table, a chain or a jail's rule in it is
// missing, the sink resyncs at once, putting back the structures and
// every ban in force, and logs one warning naming what was missing and
// how many elements it restored. Elements nft refuses on their own are
// found by halving the changes; they are logged and retried with the same
// backoff while the others apply. Without the nft program, Run fails at
// once naming it (CheckEnv reports it beforehand).
//
// Kernel timeouts run on the wall clock: in a replay against a real
// firewall, bans whose end has passed are not applied.
package nftables
