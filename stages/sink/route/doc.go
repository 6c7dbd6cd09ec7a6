// Package route implements sink "route": a banned host gets a blackhole
// route, so the server's replies to it go nowhere, as fail2ban's route
// action does.
//
//	sink "route" "blackhole" {
//	  inputs      = [counter.sshd]
//	  type        = "blackhole"   # or "unreachable", "prohibit"
//	  route_proto = 252           # marks the sink's routes
//	  table       = 254           # the main table (the default)
//	  prefix_v4   = 24            # optional: route the whole network
//	  prefix_v6   = 64
//	  flush_on_stop = false       # the default: bans outlive f2b
//	}
//
// A route blocks every protocol and port, for the whole machine (a
// router forwards nothing to the host either), and needs no firewall:
//
//	ip route add blackhole 203.0.113.7/32 proto 252 table 254
//	ip route add blackhole 2001:db8::7/128 proto 252 table 254
//
// Blackhole drops silently; unreachable and prohibit make the kernel
// answer local senders with an ICMP error. A TCP handshake from the host
// still reaches the server (the route acts on the replies), so its
// connections never open.
//
// # Whose routes
//
// The sink marks its routes with the protocol number route_proto (252 by
// default; pick one no routing daemon uses) and only ever reads, changes
// or deletes routes of that number in its table. A host already routed
// by another program (same prefix, same table) cannot get the sink's
// route: that ban is logged with ip's message and retried with backoff.
// All jails share the routes: a route stays while any jail bans a host
// it covers.
//
// # Batches, start and stop
//
// Every batch of actions is one `ip -force -batch -` run, so 20,000 bans
// take a fraction of a second. At start the sink reads its routes (`ip
// -j route show table T proto P`), deletes its routes of another type (a
// restart with another type), and reconciles them with the restored bans
// as sink "nftables" does: missing routes are added, present ones left
// alone, and those no ban wants are deleted 10 s after the start. Routes
// have no timeouts: the unban removes them, and the next start removes
// those whose ban ended while f2b was down. With flush_on_stop = true the
// sink deletes its routes when it stops.
//
// Every 30 s, between batches, the sink lists its routes (one `ip -j
// route show` per family) and, when one it holds has gone behind its
// back (`ip route flush`, a network service's restart), reads the routes
// again and puts every ban back, logging how many were missing.
//
// A failed ip run is logged with its standard error and counted (Stats
// "route_errors", beside "route_batches", "route_elements_added" and
// "route_elements_deleted"); the sink then reads the routes again and
// applies every difference, with backoff from 1 s to 1 min while that
// fails.
package route
