# build.python_version -> nixpkgs' python3X, and the versions the pin lacks named clearly.
let
  t = import ./lib.nix;
  pick = import ../lib/python.nix;
  pkgs = { python39 = "py39"; python311 = "py311"; python312 = "py312"; };
in
[
  (t.case "minor version" "py311" (pick pkgs "3.11"))
  (t.case "a patch means its minor" "py39" (pick pkgs "3.9.18"))
  (t.case "a version the pin lacks fails" true (t.fails (pick pkgs "3.14")))
]
