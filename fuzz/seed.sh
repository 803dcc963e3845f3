#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ (git-ignored) from the committed fixtures, the
# generator's edge profile and the regression inputs. Idempotent: seeds are
# named by content, so running it twice adds nothing.
set -euo pipefail
cd "$(dirname "$0")"
root=..

add() { # add <target> <file>: copy a seed, named by its hash
  local sum
  sum=$(sha1sum "$2" | cut -c1-40)
  cp "$2" "corpus/$1/$sum"
}

mkdir -p corpus/{flatten,map_event,map_json_bytes,fake_request,round_trip,mapping_eval,actions_map}

# Raw JSON events: every Segment fixture, every bug bundle line, the edge profile.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$root"/fixtures/segment/*.json; do add map_json_bytes "$f"; done
i=0
for f in "$root"/fixtures/bugs/*/events.ndjson; do
  while IFS= read -r line; do
    i=$((i + 1)); printf '%s' "$line" > "$tmp/bug$i"; add map_json_bytes "$tmp/bug$i"
  done < "$f"
done
if [ ! -f "$tmp/edge.ndjson" ]; then
  cargo run --quiet --release --manifest-path "$root/Cargo.toml" -p talon-harness -- gen \
    --seed 1 --profile edge --events 300 > "$tmp/edge.ndjson"
fi
i=0
while IFS= read -r line; do
  i=$((i + 1)); printf '%s' "$line" > "$tmp/edge$i"; add map_json_bytes "$tmp/edge$i"
done < "$tmp/edge.ndjson"

# Fake requests: each endpoint with the right method, key and content type
# (bytes 1-3), path parameter `1` (byte 4), and a raw body (byte 5 = 255)
# taken from the Segment fixtures' traits or a small plausible body.
bodies=('{"attributes":{"email":"a@b.c","logins":3}}' '{"customerProfiles":[{"integrationId":"u1","attributes":{"email":"x"}}]}'
  '[{"action":"add","profileIntegrationId":"u1","audienceId":1}]' '{"name":"VIP","integration":"segment","integrationId":"aud_1"}'
  '{"entity":"CustomerProfile","name":"loyalty","title":"Loyalty","type":"number","description":"d","suggestions":[],"editable":true}'
  '{"attributes":{"birthday":"1990-01-01T00:00:00Z","interests":["a","b"]}}' '{}')
for e in $(seq 0 16); do
  for b in "${!bodies[@]}"; do
    { printf "\\x$(printf %02x "$e")\\x0f\\x07\\x07\\x00\\xff"; printf '%s' "${bodies[$b]}"; } > "$tmp/req"
    add fake_request "$tmp/req"
  done
done
# The relay's endpoints (17-29, after the 17 above; `talon_fake::fuzz::RELAY_ENDPOINTS`): the
# Segment key (byte 2 = 9), JSON, the default deployment (byte 4 = 9), path parameter `1`,
# a raw body of each relay shape.
relay_bodies=('{"attributes":{"email":"a@b.c"},"runRuleEngine":true,"audiencesChanges":{"adds":[1],"deletes":[]}}'
  '{"eventType":"order","customerProfileId":"u1","eventAttributes":{}}' '{"audienceId":"seg_1","audienceName":"Travel audience"}'
  '{"data":[{"customerProfileId":"u1","adds":[1],"deletes":[]}]}' '{"profileId":"u1","state":"open","cartItems":[{"sku":"s1","quantity":1}]}'
  '{"attributes":{"email":"a@b.c"},"attributesInfo":[{"name":"email","type":"string"}]}' '{}')
for e in $(seq 17 29); do
  for b in "${!relay_bodies[@]}"; do
    { printf "\\x$(printf %02x "$e")\\x0f\\x09\\x07\\x09\\x00\\xff"; printf '%s' "${relay_bodies[$b]}"; } > "$tmp/req"
    add fake_request "$tmp/req"
  done
done

# mapping_eval: a few lines of `mapping eval` (an input starting with `{` is a raw line; any
# other is read by the structure-aware generator, which needs no seed).
i=0
for line in \
  '{"mapping":{"id":{"@path":"$.userId"},"attrs":{"@path":"$.traits"}},"payload":{"userId":"u1","traits":{"a":1}}}' \
  '{"mapping":{"x":{"@if":{"blank":{"@path":"$.a"},"then":{"@template":"{{a}}-{{{b}}}"},"else":0}}},"payload":{"a":[0],"b":"{{a}}"}}' \
  '{"mapping":{"x":{"@replace":{"pattern":"a","replacement":"[$&]","value":{"@path":"$.s"},"ignorecase":true}}},"payload":{"s":"bAnana"}}' \
  '{"mapping":{"x":{"@arrayPath":["$.l",{"k":{"@merge":{"objects":[{"@path":"$"},{"z":1}],"direction":"left"}}}]}},"payload":{"l":[{"a":1},"hi"]}}' \
  '{"mapping":{"x":{"@flatten":{"value":{"@json":{"mode":"decode","value":{"@path":"$.j"}}},"separator":"."}}},"payload":{"j":"{\"a\":{\"b\":[1]}}"}}' \
  '{"mapping":{"x":{"@liquid":"{% if a %}{{ a | upcase | plus: 1 }}{% endif %}"}},"payload":{"a":"x"}}'; do
  i=$((i + 1)); printf '%s' "$line" > "$tmp/mapping$i"; add mapping_eval "$tmp/mapping$i"
done

# actions_map: its choices are drawn from any bytes; the Actions cases give it varied ones.
for f in "$root"/fixtures/actions/cases/*.json; do add actions_map "$f"; done

# Committed regression inputs, so a campaign starts from every known case.
for target in flatten map_event map_json_bytes fake_request round_trip mapping_eval actions_map; do
  for f in "$root/fixtures/fuzz-regressions/$target"/*; do
    [ -f "$f" ] && [ "${f##*.}" != md ] && add "$target" "$f"
  done
done
echo "seeded: $(for t in corpus/*; do printf '%s=%s ' "${t#corpus/}" "$(ls "$t" | wc -l)"; done)"
