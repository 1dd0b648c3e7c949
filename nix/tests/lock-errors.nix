# A missing lock.json stops evaluation (the message is checked by tests/nix/test_nix_lib.py).
let
  t = import ./lib.nix;
  lib = import ../lib { pkgs = { }; dream2nix = null; cognixSrc = null; };
in
[
  (t.case "missing lock fails" true (t.fails (lib.readLock ./fixtures/no-such-model "examples/nope")))
  (t.case "present lock is read" "00" (lib.readLock ./fixtures/model "examples/model").invalidationHash)
]
