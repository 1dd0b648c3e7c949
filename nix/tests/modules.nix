# nix/modules declare every option nix/lib/cog-config.nix defines, with cog.yaml's defaults.
# lib is a stub: mkOption returns its argument, types are their names.
let
  t = import ./lib.nix;
  types = {
    bool = "bool"; str = "str"; int = "int"; anything = "anything"; package = "package";
    ints.positive = "positive int";
    nullOr = x: "null or ${x}";
    listOf = x: "list of ${x}";
    attrsOf = x: "attrs of ${x}";
    either = a: b: "${a} or ${b}";
  };
  lib = { mkOption = o: o; inherit types; };
  cog = (import ../modules/cog.nix { inherit lib; }).options.cog;
  cognix = (import ../modules/cognix.nix { inherit lib; }).options.cognix;
  defs = (import ../lib/cog-config.nix { mkDefault = v: v; } {
    config = { }; target = { python_version = "3.11"; };
  }).cog;
  # leaf paths of an attrset, as "a.b.c"
  leaves = prefix: set: builtins.concatLists (map
    (n: let v = set.${n}; p = if prefix == "" then n else "${prefix}.${n}"; in
      if builtins.isAttrs v && !(v ? type) then leaves p v else [ p ])
    (builtins.attrNames set));
  has = path: set: builtins.foldl' (s: k: if s != null && builtins.isAttrs s && s ? ${k} then s.${k} else null) set
    (builtins.filter builtins.isString (builtins.split "\\." path)) != null;
in
[
  (t.case "every cog-config definition has an option" [ ]
    (builtins.filter (p: !(has p cog)) (leaves "" defs)))
  (t.case "the check sees a missing option" [ "build.nope" ] (builtins.filter (p: !(has p cog)) [ "build.gpu" "build.nope" ]))
  (t.case "cog.yaml keys mirrored" [ "build" "concurrency" "environment" "predict" "train" "weights" ] (builtins.attrNames cog))
  (t.case "build keys mirrored" [ "cuda" "cudnn" "gpu" "python_packages" "python_version" "run" "system_packages" ] (builtins.attrNames cog.build))
  (t.case "gpu is a bool, false by default" { type = "bool"; default = false; } { inherit (cog.build.gpu) type default; })
  (t.case "cuda may be null" "null or str" cog.build.cuda.type)
  (t.case "concurrency: a positive int or unset" { type = "null or positive int"; default = null; } { inherit (cog.concurrency.max) type default; })
  (t.case "maxLayers defaults to 100" 100 cognix.maxLayers.default)
  (t.case "systemPackages maps names to packages" "attrs of package or list of package" cognix.systemPackages.type)
  (t.case "cognix options" [ "cudaFromNixpkgs" "environment" "maxLayers" "name" "revision" "rootPackages" "sourceDateEpoch" "sourceIgnores" "systemPackages" "user" ] (builtins.attrNames cognix))
  (t.case "sourceDateEpoch: seconds as an int or the environment's string" "int or str" cognix.sourceDateEpoch.type)
  (t.case "python_version defaults to the native engine's (cognix/config/defaults.json)"
    (builtins.fromJSON (builtins.readFile ../../cognix/config/defaults.json)).python_version cog.build.python_version.default)
  (t.case "non-root user by default, as the native engine" "cog" cognix.user.default)
]
