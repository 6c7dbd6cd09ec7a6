# Ban SSH brute force seen in OpenSSH's log on Debian (/var/log/auth.log)
# or RHEL (/var/log/secure): 5 failures within 10 minutes earn a 1 hour
# ban, and each later ban of the same address lasts twice as long, up to a
# week.
#
#   f2b validate examples/sshd.hcl
#   f2b replay examples/sshd.log --config examples/sshd.hcl --dry-run

variable "trusted" {
  description = "Addresses that are never banned."
  default     = ["127.0.0.0/8", "::1"]
}

source "file" "auth" {
  paths = ["/var/log/auth.log", "/var/log/secure"]
}

matcher "regex" "sshd" {
  inputs = [source.auth]

  # The timestamp is cut out before these run, so "^" anchors at the host
  # name. Every regex ends in "$" after the address: a user name is the
  # attacker's text and may hold " from 6.6.6.6", but only the address that
  # sshd itself wrote last can complete the match.
  fail = <<-RE
    ^\S+ sshd(?:-session)?\[\d+\]: Failed (?:password|keyboard-interactive/pam|none) for (?:invalid user )?<F-USER>.*?</F-USER> from <HOST> port \d+(?: ssh\d*)?$
    ^\S+ sshd(?:-session)?\[\d+\]: Invalid user <F-USER>.*?</F-USER> from <HOST>(?: port \d+)?$
    ^\S+ sshd(?:-session)?\[\d+\]: User <F-USER>\S+</F-USER> from <HOST> not allowed because .+$
    ^\S+ sshd(?:-session)?\[\d+\]: error: maximum authentication attempts exceeded for (?:invalid user )?<F-USER>.*?</F-USER> from <HOST> port \d+(?: ssh\d*)? \[preauth\]$
  RE
}

counter "window" "sshd" {
  inputs          = [matcher.sshd]
  max_retry       = 5
  find_time       = "10m"
  ban_time        = "1h"
  ban_time_factor = 2
  ban_time_max    = "1w"
  ignore          = var.trusted
}

# What a ban does: here, a line in the journal. Swap this for
# sink "nftables" or sink "exec" to block the address.
sink "log" "bans" {
  inputs = [counter.sshd]
}
