// Package mail implements sink "mail": it mails the admin about bans (and,
// when asked, unbans and prolongs), through an SMTP server or the local
// sendmail binary, one mail per action or one digest per interval.
//
//	sink "mail" "admin" {
//	  inputs   = [counter.sshd]
//	  to       = ["root@example.org"]          # or a string: "root@example.org, ops@example.org"
//	  from     = "f2b <f2b@{{.Hostname}}>"     # the default
//	  smtp     = "mail.example.org:587"        # without smtp: sendmail = "/usr/sbin/sendmail"
//	  username = "f2b"
//	  password = var.smtp_password
//	  on       = ["ban"]                       # the default; also "unban", "prolong"
//	  whois    = true                          # add `whois HOST` to every mail
//	  digest   = "10m"                         # one mail per 10 minutes listing the bans
//	}
//
// # Transports
//
// With smtp = "host:port" the sink speaks SMTP itself. starttls is "auto"
// (the default: upgrade when the server offers STARTTLS), "always" (fail
// when it does not) or "never"; tls = true connects with implicit TLS
// (port 465) instead. Certificates are checked against the system's roots,
// or the PEM file ca_file; insecure_skip_verify = true turns the check off
// (for tests only). With username and password the sink logs in (AUTH
// PLAIN, else LOGIN), and only over an encrypted connection unless the
// server is this machine (localhost or a loopback address: fail2ban users
// run local MTAs), so a password never crosses a network in clear.
//
// Without smtp the message is piped into sendmail (default
// /usr/sbin/sendmail) as `sendmail -t -i`: argv, no shell; recipients come
// from the To header. Exit status 75 (EX_TEMPFAIL) and a timeout are
// retried; other failures are not.
//
// The SMTP client is the standard library's net/smtp: frozen, but complete
// for submitting a text mail (EHLO, STARTTLS, AUTH, dot-stuffing), it adds
// no dependency, and the sink adds the rest (LOGIN auth, the clear-text
// rule, timeouts).
//
// # Templates
//
// from, every entry of to, subject and body are Go text/template texts
// (https://pkg.go.dev/text/template) with these fields:
//
//	.Action    "ban", "unban" or "prolong"
//	.Verb      "banned", "unbanned" or "extended the ban of"
//	.Jail      the jail (the counter's name)
//	.Host      the address (IPv6 compressed)
//	.Failures  failures behind the ban
//	.BanCount  the host's ban number in the jail, 1 for the first
//	.Matches   the log lines behind the ban (a list)
//	.Fields    captured fields: {{.Fields.user}} ("" when not captured)
//	.Time      when the action took effect (a time.Time)
//	.BanTime   the ban's length: "1h0m0s" or "permanent"
//	.End       when the ban ends (zero when permanent, and for an unban)
//	.Hostname  this machine's name
//	.Whois     `whois HOST` output when whois = true, else ""
//
// and the functions join (join .Matches "\n"), rfc3339 (rfc3339 .Time) and
// json. The defaults:
//
//	subject = "[f2b] {{.Jail}}: {{.Verb}} {{.Host}}"
//
// and a body with the time, failures, ban time, end, the matched lines and
// the whois output. A template that names a field that does not exist is a
// configuration error.
//
// Header values cannot be injected: a subject's control characters (CR, LF,
// …) become blanks, and a from or to whose text holds any is refused (the
// mail is not sent), so a log line with "\r\nBcc: x" in a user name stays
// text. from and to must be addresses ("a@b.example", "Name <a@b.example>")
// or a bare local name such as "root" that the local MTA completes. Each
// mail carries Date, Message-ID, MIME-Version, a UTF-8 text/plain body (as it is
// when it is ASCII in lines of at most 998 bytes, else quoted-printable, so
// any server takes it whatever bytes a log line holds) and Auto-Submitted:
// auto-generated. The whois output goes into the body
// only; nothing in a mail is handed to a program that reads escapes (the
// hole of fail2ban's CVE-2021-32749).
//
// # Which actions, and how often
//
// on lists the actions that send mail (default ["ban"]). A ban restored
// from saved state at start-up never mails: it was reported when it was
// made (fail2ban's norestored).
//
// digest = "10m" collects the actions and sends one mail per interval (the
// interval starts with the first action collected) listing at most
// digest_max of them (default 100), then "… and N more", so a botnet does
// not cause a mail storm. Its subject and body are digest_subject and
// digest_body, templates with the fields .Count (actions collected), .More
// (those not listed), .Entries (the listed ones, each with the fields
// above; .Whois is empty in digests), .Since and .Until (the first and last
// action's time), .Jails (sorted) and .Hostname. from and to see the first
// entry's fields.
//
// Without digest, max_per_hour (default 60; 0 means the default) caps the
// mails of each hour (an hour starts with the first mail sent): beyond it
// the sink logs a warning and collects the rest of the hour into one digest
// sent when the hour is over.
//
// # Delivery
//
// Delivery never holds up the pipeline: Run puts each action into a queue
// of queue_size entries (default 1000; when full the oldest is dropped) and
// one worker delivers in order. Each delivery may take timeout (default
// 30s: the whole SMTP conversation, or the sendmail run). A failure that
// may pass (a connection error, a 4xx reply) is retried with backoff from
// 1 s to 1 min for retry_for (default 10m; "0s" never retries); a 5xx reply
// or a refused TLS certificate is not. When the input ends, what is queued
// (and a pending digest) is delivered for at most 5 seconds; the rest is
// dropped and logged.
//
// Stats: mail_sent and mail_failed count mails, mail_retried retries, and
// mail_dropped the actions never mailed (queue overflow, stop).
package mail
