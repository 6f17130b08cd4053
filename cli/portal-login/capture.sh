#!/usr/bin/env bash
# Re-creates docs/portal-login.txt (and docs/portal-login-waiting.txt): `portal-login login`
# in a tmux pane against the local stack — moto and cognito-local from test-stack.sh, the
# bootstrap of `make dev` (table, pool, clients, demo user), `cargo lambda watch` in front of
# the real function binaries — captured with `tmux capture-pane` while it waits, and again
# after the demo user approved and signed in (over HTTP, as a browser would).
#
#   cargo build --workspace --bins
#   infra/local/test-stack.sh -- cli/portal-login/capture.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=infra/local/lib.sh
. infra/local/lib.sh
: "${PORTAL_TEST_DYNAMODB_ENDPOINT:?run me through infra/local/test-stack.sh}"
bin=${CARGO_TARGET_DIR:-$HOME/.cache/portal-auth/target}/debug
work=$(mktemp -d)
socket=portal-login-capture-$$
pids=()
cleanup() {
  tmux -L "$socket" kill-server 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
base=http://127.0.0.1:$port
.venv/bin/python infra/local/bootstrap.py --dynamodb "$PORTAL_TEST_DYNAMODB_ENDPOINT" \
  --cognito "$PORTAL_TEST_COGNITO_ENDPOINT" --base-url "$base" --password 'Capture-Passw0rd!' \
  --out "$work/env"
set -a; . "$work/env"; set +a

.venv/bin/cargo-lambda lambda watch --only-lambda-apis --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$port" --manifest-path Cargo.toml >"$work/watch.log" 2>&1 &
pids+=($!)
# (A GET on it would wait for a function: wait for the port instead.)
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.2
done
for f in device-code device-token device-verify device-callback; do
  AWS_LAMBDA_FUNCTION_NAME=$f AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 \
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt/$f" "$bin/$f" >"$work/$f.log" 2>&1 &
  pids+=($!)
done

# A clean environment, a fresh config folder, a 100×64 terminal.
tmux -L "$socket" new-session -d -x 100 -y 64 \
  "env -i PATH=/usr/bin:/bin HOME=$work XDG_CONFIG_HOME=$work TERM=xterm-256color LANG=C.UTF-8 \
   $bin/portal-login --url $base --client-id $PORTAL_LOCAL_PUBLIC_CLIENT_ID login; sleep 600"
screen() { tmux -L "$socket" capture-pane -p; }
# Trailing blanks and the empty rows below the output dropped; the temp folder shown as ~/.config.
tidy() {
  sed -e 's/[[:space:]]*$//' -e "s|$work|~/.config|" |
    awk '{ line[NR] = $0 } END { n = NR; while (n > 0 && line[n] == "") n--; for (i = 1; i <= n; i++) print line[i] }'
}
wait_screen() {
  for _ in $(seq 1 600); do
    if screen | grep -q "$1"; then return 0; fi
    sleep 0.2
  done
  screen >&2
  echo "no '$1' on the screen" >&2
  return 1
}
wait_screen "Ctrl-C to cancel"
sleep 4  # let the countdown run a little
screen | tidy >docs/portal-login-waiting.txt

# The person's side: confirm, approve, sign in at cognito-local, follow the callback.
code=$(screen | sed -n 's/^ *2\. Enter *//p' | head -n1)
.venv/bin/python - "$base" "$code" "$PORTAL_LOCAL_DEMO_USERNAME" "$PORTAL_LOCAL_DEMO_PASSWORD" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request

base, code, user, password = sys.argv[1:]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))

def send(url, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        response = opener.open(url, data)
        return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as e:  # 3xx land here without a redirect handler
        return e.code, e.headers, e.read().decode()

_, _, page = send(f"{base}/device?user_code={urllib.parse.quote(code)}")
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
status, headers, _ = send(f"{base}/device", {"csrf": csrf, "user_code": code, "decision": "approve"})
authorize = urllib.parse.urlsplit(headers["Location"])
form = dict(urllib.parse.parse_qsl(authorize.query), username=user, password=password)
status, headers, _ = send(f"{authorize.scheme}://{authorize.netloc}{authorize.path}", form)
status, _, page = send(headers["Location"])
assert "Device signed in" in page, page
PY
wait_screen "Logged in to"
screen | tidy >docs/portal-login.txt
echo "wrote docs/portal-login-waiting.txt and docs/portal-login.txt" >&2
