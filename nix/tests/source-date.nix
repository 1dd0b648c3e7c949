# SOURCE_DATE_EPOCH -> RFC 3339 (nix/lib/source-date.nix): the native engine's strftime values
# (tests/nix/test_nix_source_date.py compares the same epochs with image_created()).
let
  t = import ./lib.nix;
  s = import ../lib/source-date.nix;
  at = epoch: expected: t.case "${toString epoch} is ${expected}" expected (s.rfc3339 epoch);
in
[
  (at 0 "1970-01-01T00:00:00Z")
  (at 1 "1970-01-01T00:00:01Z")
  (at 86399 "1970-01-01T23:59:59Z")
  (at 86400 "1970-01-02T00:00:00Z")
  (at 68169600 "1972-02-29T00:00:00Z")
  (at 315532800 "1980-01-01T00:00:00Z")
  # 2000: a leap year though divisible by 100 (by 400 too)
  (at 951782400 "2000-02-29T00:00:00Z")
  (at 951868799 "2000-02-29T23:59:59Z")
  (at 951868800 "2000-03-01T00:00:00Z")
  (at 978307199 "2000-12-31T23:59:59Z")
  (at 1700000000 "2023-11-14T22:13:20Z")
  (at 1800000000 "2027-01-15T08:00:00Z")
  # 2100: divisible by 100, not by 400: no 29 February
  (at 4107456000 "2100-02-28T00:00:00Z")
  (at 4107542400 "2100-03-01T00:00:00Z")
  (at s.max "9999-12-31T23:59:59Z")
  (t.case "unset (\"\") is the native default, 1970-01-01T00:00:01Z" { epoch = 1; created = "1970-01-01T00:00:01Z"; } (s.time ""))
  (t.case "the environment's string, whitespace around it ignored" 1700000000 (s.epoch " 1700000000\n"))
  (t.case "an int as it is" 1800000000 (s.epoch 1800000000))
  (t.case "leading zeros" 7 (s.epoch "007"))
  (t.case "zero is a time" 0 (s.epoch "0"))
  (t.case "words fail" true (t.fails (s.epoch "yesterday")))
  (t.case "negative fails" true (t.fails (s.epoch "-1")))
  (t.case "negative int fails" true (t.fails (s.epoch (-1))))
  (t.case "fractions fail" true (t.fails (s.epoch "1.5")))
  (t.case "inner spaces fail" true (t.fails (s.epoch "17 00")))
  (t.case "past 9999-12-31 fails" true (t.fails (s.epoch (s.max + 1))))
  (t.case "a long digit string fails (no overflow)" true (t.fails (s.epoch "99999999999999999999999")))
  (t.case "null fails" true (t.fails (s.epoch null)))
]
