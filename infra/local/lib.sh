# Shell helpers shared by the local-stack scripts (sourced, not run).

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# cognito-local's own config: plain usernames (not e-mails), as the demo user needs.
cognito_config() {
  printf '%s\n' '{ "UserPoolDefaults": { "UsernameAttributes": [] } }'
}

# wait_for_http URL NAME LOG: waits up to 60 s for URL to answer, else prints LOG and fails.
wait_for_http() {
  local url=$1 name=$2 log=$3
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.2
  done
  echo "$name did not start; its log:" >&2
  cat "$log" >&2
  return 1
}
