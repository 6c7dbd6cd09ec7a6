// Package notify holds what the sinks that report bans to people share
// (sink "mail" and sink "webhook"): the bounded queue and Run loop that keep
// a slow server from stalling the pipeline, retries with backoff, the `on`
// attribute, and the data their templates see.
//
// Such a sink never delivers from Run itself. Run reads actions into a
// bounded queue (dropping the oldest when it is full) and one worker
// goroutine delivers them in order, so a hanging SMTP or HTTP server costs
// queued notifications, never bans: the counter upstream keeps running.
package notify
