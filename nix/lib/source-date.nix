# SOURCE_DATE_EPOCH -> the image's time, as the native engine's image_created()
# (cognix/engines/native/build.py): one value for config `created`, its label and every file's mtime.
# A flake cannot read the environment, so the value arrives through cognix.sourceDateEpoch
# (nix/modules/cognix.nix). Builtins only: evaluated by the pure tests without nixpkgs.
rec {
  # the native engine's DEFAULT_CREATED (1970-01-01T00:00:01Z) as seconds
  default = 1;
  # 9999-12-31T23:59:59Z: the last time a four-digit year can write (the native engine's bound too)
  max = 253402300799;

  fixWidth = n: s: if builtins.stringLength s >= n then s else fixWidth n "0${s}";
  pad = n: i: fixWidth n (toString i);

  # whole seconds since 1970-01-01 UTC -> "YYYY-MM-DDTHH:MM:SSZ"; days -> date is Howard Hinnant's
  # civil_from_days (400-year eras of 146097 days, years starting on 1 March so the leap day is last)
  rfc3339 = epoch:
    let
      div = builtins.div;
      days = div epoch 86400;
      secs = epoch - days * 86400;
      z = days + 719468;
      era = div z 146097;
      doe = z - era * 146097;
      yoe = div (doe - div doe 1460 + div doe 36524 - div doe 146096) 365;
      doy = doe - (365 * yoe + div yoe 4 - div yoe 100);
      mp = div (5 * doy + 2) 153;
      day = doy - div (153 * mp + 2) 5 + 1;
      month = if mp < 10 then mp + 3 else mp - 9;
      year = yoe + era * 400 + (if month <= 2 then 1 else 0);
    in
    "${pad 4 year}-${pad 2 month}-${pad 2 day}T${pad 2 (div secs 3600)}:${pad 2 (div (secs - div secs 3600 * 3600) 60)}:${pad 2 (secs - div secs 60 * 60)}Z";

  digits = { "0" = 0; "1" = 1; "2" = 2; "3" = 3; "4" = 4; "5" = 5; "6" = 6; "7" = 7; "8" = 8; "9" = 9; };

  # the option's value -> seconds: an int, or the environment's string (surrounding whitespace
  # ignored, "" = unset = default), as the native engine reads SOURCE_DATE_EPOCH
  epoch = value:
    let
      shown = if builtins.isString value then "'${value}'" else builtins.toJSON value;
      bad = throw ("SOURCE_DATE_EPOCH=${shown} (cognix.sourceDateEpoch) is not a time: it must be whole seconds since 1970-01-01 UTC, "
        + "at most ${toString max}; set it to e.g. $(git log -1 --format=%ct), or unset it for 1970-01-01T00:00:01Z");
      trimmed = builtins.match "[[:space:]]*([^[:space:]]*)[[:space:]]*" value;
      text = if trimmed == null then null else builtins.head trimmed;
      # digit by digit; past `max` it stops growing, so a long string cannot overflow
      parse = s: builtins.foldl' (n: c: if n > max then n else n * 10 + digits.${c}) 0
        (builtins.genList (i: builtins.substring i 1 s) (builtins.stringLength s));
      seconds =
        if builtins.isInt value then value
        else if !(builtins.isString value) || text == null || builtins.match "[0-9]*" text == null then bad
        else if text == "" then default
        else parse text;
    in
    if seconds < 0 || seconds > max then bad else seconds;

  # the option's value -> { epoch; created; } for nix/lib/default.nix and nix/lib/image.nix
  time = value: let e = epoch value; in { epoch = e; created = rfc3339 e; };
}
