# Ban web scanners and HTTP basic-auth guessing seen in nginx's access log
# (the default "combined" format): 10 requests answered 401, 403 or 404
# within a minute earn a 30 minute ban.
#
#   f2b replay examples/nginx.log --config examples/nginx.hcl --dry-run

source "file" "access" {
  paths = ["/var/log/nginx/access.log"]
}

matcher "regex" "nginx_4xx" {
  inputs = [source.access]

  # nginx writes the client address first; the request, referrer and user
  # agent that follow are the client's own text, so the regex anchors the
  # address at "^" and never looks for one later in the line. The date
  # between the brackets is cut out before the regex runs.
  fail = <<-RE
    ^<HOST> - \S+ \[[^\]]*\] "[A-Z]+ [^"]* HTTP/[\d.]+" (?:401|403|404) \d+
  RE

  # Browsers ask for these on their own; a missing favicon is no attack.
  ignore = <<-RE
    ^\S+ - \S+ \[[^\]]*\] "GET /(?:favicon\.ico|apple-touch-icon[\w.-]*\.png|robots\.txt) 
  RE
}

counter "window" "nginx" {
  inputs    = [matcher.nginx_4xx]
  max_retry = 10
  find_time = "1m"
  ban_time  = "30m"
  ignore    = ["127.0.0.0/8", "::1"]
}

sink "log" "bans" {
  inputs = [counter.nginx]
  format = "json"
}
