// Package webhook implements sink "webhook": it sends each ban (and, when
// asked, unban and prolong) to an HTTP endpoint, as generic JSON, as a
// Slack, Mattermost or Discord message, or as a body of your own.
//
//	sink "webhook" "chat" {
//	  inputs  = [counter.sshd]
//	  url     = var.slack_webhook_url
//	  format  = "slack"                 # "json" (default), "slack", "mattermost", "discord"
//	  on      = ["ban", "unban"]        # default ["ban"]
//	}
//
//	sink "webhook" "api" {
//	  inputs       = [counter.sshd]
//	  url          = "https://blocklist.example.org/api/report"
//	  method       = "PUT"
//	  headers      = { Authorization = "Bearer ${var.api_token}" }
//	  content_type = "application/json"
//	  body         = <<-EOT
//	    {"ip": {{json .Host}}, "jail": {{json .Jail}}, "reason": "f2b {{.Failures}} failures"}
//	  EOT
//	}
//
// # Formats
//
// "json" (the default) posts one object per action:
//
//	{"event":"ban","jail":"sshd","host":"203.0.113.7","failures":5,
//	 "time":"2026-01-02T03:04:05Z","ban_time":"1h0m0s","end":"2026-01-02T04:04:05Z",
//	 "matches":["…"],"hostname":"web1"}
//
// time and end are RFC 3339 in UTC; ban_time is a Go duration or
// "permanent", as sink "log" writes them; end is null for a permanent ban
// and for an unban; matches is [] when there are none.
//
// "slack" and "mattermost" post {"text": "…"}, "discord" posts
// {"content": "…", "allowed_mentions": {"parse": []}} (so no text can ping
// anyone), with one line such as "[f2b] sshd on web1: banned 203.0.113.7
// after 5 failures, for 1h0m0s (until 2026-01-02T04:04:05Z)". Slack's
// control characters (&, <, >) are escaped.
//
// body replaces the format: a Go text/template with the fields of sink
// "mail" (.Action, .Verb, .Jail, .Host, .Failures, .BanCount, .Matches,
// .Fields, .Time, .BanTime, .End, .Hostname) and the functions json
// (a value as a JSON literal, escaped), join and rfc3339; content_type
// (default "text/plain; charset=utf-8") is its Content-Type. A template
// naming a field that does not exist is a configuration error.
//
// # Secrets
//
// headers (e.g. Authorization) are sent with every request and never
// logged; a Content-Type among them overrides the format's. Chat webhook
// URLs hold their token in the path, so logs name only the scheme and host
// of url. Redirects are not followed (they would carry the headers to
// another server): a 3xx answer is a failure that says so.
//
// # Delivery
//
// Delivery never holds up the pipeline: Run puts each action into a queue
// of queue_size entries (default 1000; when full the oldest is dropped and
// counted) and one worker sends them in order. Each request may take
// timeout (default 10s). A network error, a timeout, 408, 429 and 5xx are
// retried with backoff from 1 s to 1 min, or after the server's
// Retry-After, for retry_for (default 10m; "0s" never retries); other
// answers are not. When the input ends, what is queued is sent for at
// most 5 seconds; the rest is dropped and logged. A ban restored from saved
// state at start-up is never sent.
//
// Stats: webhook_sent, webhook_failed, webhook_retried and webhook_dropped
// (actions never sent: queue overflow, stop).
package webhook
