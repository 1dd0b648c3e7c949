# Tiny assertion helpers for the pure Nix tests (builtins only: no nixpkgs here).
rec {
  # a case passes when expected == actual; the runner reports the failing ones with both values
  case = name: expected: actual: { inherit name expected actual; ok = expected == actual; };
  # records the arguments a stubbed nixpkgs function was called with
  recorder = fname: args: { __stub = fname; inherit args; outPath = "/nix/store/00000000000000000000000000000000-${fname}"; };
  fails = expr: !(builtins.tryEval expr).success;
  # plain substring test (no regex)
  contains = infix: s:
    let n = builtins.stringLength infix; in
    builtins.any (i: builtins.substring i n s == infix) (builtins.genList (i: i) (builtins.stringLength s));
  hasInfix = infix: s: builtins.match ".*${infix}.*" (builtins.replaceStrings [ "\n" ] [ " " ] s) != null;
}
