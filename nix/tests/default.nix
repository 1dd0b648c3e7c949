# Runs every pure test file; evaluates to { cases; failed } (failed must be empty).
# nix-instantiate --eval --strict --json nix/tests
let
  files = [ ./modules.nix ./cog-config.nix ./system-packages.nix ./image.nix ./lock-errors.nix ./mk-image.nix ./flake-outputs.nix ./weights.nix ./python.nix ./module-merge.nix ./source-date.nix ./original-cognix.nix ];
  cases = builtins.concatLists (map (f: map (c: c // { file = baseNameOf f; }) (import f)) files);
  failed = builtins.filter (c: !c.ok) cases;
in
{
  count = builtins.length cases;
  failed = map (c: { inherit (c) file name expected actual; }) failed;
}
