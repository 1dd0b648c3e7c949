# For users of the original cognix (datakami/cognix), with the stubs: `nix develop` shells in
# flake.nix's outputs, sourceIgnores as lines or a list, cognix.systemPackages names joining
# system_packages, and every option the original declares accounted for (same name, renamed, or
# removed with a reason). The same behaviour under nixpkgs' real module system:
# nix/tests/original-cognix-lib.nix (tests/nix/test_nix_original_cognix.py).
let
  t = import ./lib.nix;
  stubs = import ./stub-pkgs.nix;
  inherit (stubs) drv;
  sys = "x86_64-linux";
  cli = "/nix/store/00000000000000000000000000000000-cognix-cli/bin/cognix";

  # flake.nix with stub inputs, as nix/tests/flake-outputs.nix evaluates it
  out = (import ../../flake.nix).outputs {
    self = { outPath = toString ../..; rev = "0123abc"; };
    nixpkgs = ./fixtures/stub-nixpkgs;
    inherit (stubs) dream2nix;
  };
  user = out.lib.singleModelFlake { self = { outPath = "/x"; }; name = "nix-model"; dir = ./fixtures/nix-model; };
  userShell = user.devShells.${sys}.nix-model;
  userImg = user.packages.${sys}.nix-model;
  two = out.lib.cognixFlake { self = { outPath = "/x"; }; } { a = ./fixtures/nix-model; b = ./fixtures/nix-model; };
  original = out.lib.singleCognixFlake { self = { outPath = "/x"; }; } "nix-model";
  names = map (p: p.name) userShell.args.packages;
  cliOf = shell: builtins.head (builtins.filter (p: p.name == "cognix") shell.args.packages);

  # nix/modules with a stub lib: an option is its mkOption argument, a type its description
  types = {
    bool = "bool"; str = "str"; int = "int"; anything = "anything"; package = "package"; lines = "lines";
    ints.positive = "positive int";
    nullOr = x: "null or ${x}";
    listOf = x: "list of ${x}";
    attrsOf = x: if builtins.isAttrs x then { attrsOf = x; } else "attrs of ${x}";
    either = a: b: "${a} or ${b}";
    coercedTo = from: f: to: { coercedTo = { inherit from f to; }; };
  };
  lib = { mkOption = o: o; inherit types; };
  sourceIgnores = (import ../modules/cognix.nix { inherit lib; }).options.cognix.sourceIgnores.type.coercedTo;
  environment = (import ../modules/cognix.nix { inherit lib; }).options.cognix.environment.type.attrsOf;
  # cog.nix's system_packages, with cognix.systemPackages from a default.nix
  systemPackagesWith = extra: (import ../modules/cog.nix { inherit lib; config.cognix.systemPackages = extra; }).options.cog.build.system_packages;
  extra = { ebsynth = drv "ebsynth"; ffmpeg = drv "my-ffmpeg"; };
  applied = (systemPackagesWith extra).apply [ "ffmpeg" "libgl1" ];
  # what nix/lib/default.nix resolves for the image (contents and the wheels' libraries)
  resolved = import ../lib/system-packages.nix { pkgs = { libGL = drv "libGL"; }; inherit extra; } applied;

  # every option the original cognix declares (modules/cog/interface.nix, modules/cog/nix.nix,
  # modules/stream-layered-image/default.nix, modules/weights/interface.nix), and dream2nix's `name`
  # and `python-env` it sets
  originalOptions = [
    "cog.build.gpu" "cog.build.cuda" "cog.build.python_version" "cog.build.system_packages" "cog.build.python_packages"
    "cog.build.python_snapshot_date" "cog.build.python_extra_index_urls" "cog.build.cog_version"
    "cog.predict" "cog.train" "cog.concurrency.max" "cog.weights"
    "cognix.systemPackages" "cognix.sourceIgnores" "cognix.rootPath" "cognix.postCopyCommands" "cognix.addCudaLibraryPath"
    "cognix.environment" "cognix.openapi_schema" "cognix.python_root_packages" "cognix.fake_pip" "cognix.cudaPackages"
    "cognix.merge-native.cublas" "cognix.merge-native.cudnn" "cognix.includeNix" "cognix.nix.extraOptions"
    "python-env" "name"
  ] ++ map (n: "dockerTools.streamLayeredImage.${n}") [
    "streamScript" "tag" "fromImage" "contents" "config" "architecture" "created" "extraCommands" "fakeRootCommands"
    "enableFakechroot" "maxLayers" "includeStorePaths" "passthru" "extraJSONFile" "includeNixDB"
  ];
  table = import ../modules/original-cognix-names.nix;
  dotted = builtins.concatStringsSep ".";
  declared = {
    cog = (import ../modules/cog.nix { inherit lib; }).options.cog;
    cognix = (import ../modules/cognix.nix { inherit lib; }).options.cognix;
  };
  # cognix declares the path itself (nix/modules/cog.nix, cognix.nix)
  has = path: builtins.foldl' (s: k: if s != null && builtins.isAttrs s && s ? ${k} then s.${k} else null) declared
    (builtins.filter builtins.isString (builtins.split "\\." path)) != null;
  mapped = map (e: dotted e.from) (table.renamed ++ table.changed ++ table.removed);
in
[
  # a. nix develop
  (t.case "devShells: one per example, and default" [ "default" "ebsynth-cpu" "hello" "torch-demo" ] (builtins.attrNames out.devShells.${sys}))
  (t.case "devShells: the repository's default has the CLI alone" [ "cognix" ] (map (p: p.name) out.devShells.${sys}.default.args.packages))
  (t.case "devShells: a model flake's, one per model and default" [ "default" "nix-model" ] (builtins.attrNames user.devShells.${sys}))
  (t.case "devShell: named after the model" "cognix-nix-model" userShell.name)
  (t.case "devShell: the model's Python env, the CLI, the model's rootPackages" [ "python3.11-env" "cognix" "ebsynth" ] names)
  (t.case "devShell: the Python env is the image's (cognix's runtime added)" true
    ((builtins.head userShell.args.packages).outPath == userImg.pythonEnv.outPath
      && (builtins.elemAt (builtins.head userShell.args.packages).overridden.extraLibs 1).pythonModule))
  (t.case "devShell: the CLI runs the packaged cognix" true (t.contains "exec ${cli} \"$@\"" (cliOf userShell).text))
  (t.case "devShell: the single model's shell is default" "cognix-nix-model" user.devShells.${sys}.default.name)
  (t.case "devShells: several models: one each, default is the CLI alone" { names = [ "a" "b" "default" ]; default = [ "cognix" ]; }
    { names = builtins.attrNames two.devShells.${sys}; default = map (p: p.name) two.devShells.${sys}.default.args.packages; })
  (t.case "devShells: the original's singleCognixFlake has them too" [ "default" "nix-model" ] (builtins.attrNames original.devShells.${sys}))

  # b. sourceIgnores: a list, or lines (the original's types.lines)
  (t.case "sourceIgnores: lines are coerced to the list" { from = "lines"; to = "list of str"; } { inherit (sourceIgnores) from to; })
  (t.case "sourceIgnores: lines give the same list as the list form" [ "*.ckpt" "/models/*" "!keep.ckpt" ]
    (sourceIgnores.f "*.ckpt\n/models/*\n\n!keep.ckpt\n"))
  (t.case "sourceIgnores: one line without a newline" [ "*.ckpt" ] (sourceIgnores.f "*.ckpt"))
  (t.case "sourceIgnores: an empty string is no pattern" [ ] (sourceIgnores.f ""))
  (t.case "environment: booleans and integers as the original wrote them (toString)" { from = "bool or int"; to = "str"; one = "1"; n = "8"; }
    { inherit (environment.coercedTo) from to; one = environment.coercedTo.f true; n = environment.coercedTo.f 8; })

  # c. cognix.systemPackages.NAME without cog.yaml listing NAME
  (t.case "system_packages: cog.yaml's names, then the ones only cognix.systemPackages has" [ "ffmpeg" "libgl1" "ebsynth" ] applied)
  (t.case "system_packages: nothing added without cognix.systemPackages" [ "ffmpeg" ] ((systemPackagesWith { }).apply [ "ffmpeg" ]))
  (t.case "system packages resolved: the mapping wins, the unlisted package is there" [ "my-ffmpeg" "libGL" "ebsynth" ] (map (d: d.name) resolved))

  # d. the original's option names
  (t.case "every option of the original is kept, renamed or removed" [ ]
    (builtins.filter (p: !(has p) && !(builtins.elem p mapped)) originalOptions))
  (t.case "the table lists only the original's options" [ ] (builtins.filter (p: !(builtins.elem p originalOptions)) mapped))
  (t.case "an option cognix declares is not also renamed or removed" [ ] (builtins.filter has mapped))
  (t.case "renames" [ "name -> cognix.name" "dockerTools.streamLayeredImage.maxLayers -> cognix.maxLayers" "dockerTools.streamLayeredImage.contents -> cognix.rootPackages" ]
    (map (e: "${dotted e.from} -> ${dotted e.to}") table.renamed))
  (t.case "rename and change targets are cognix's options" [ ] (builtins.filter (p: !(has p)) (map (e: dotted e.to) (table.renamed ++ table.changed))))
  (t.case "merge-native: true and force set cudaFromNixpkgs, false does not" [ false true true ]
    (map (builtins.head table.changed).when [ false true "force" ]))
  (t.case "the snapshot date, cog_version, the Nix and pip options are removed" true
    (builtins.all (p: builtins.elem p (map (e: dotted e.from) table.removed))
      [ "cog.build.python_snapshot_date" "cog.build.cog_version" "cog.build.python_extra_index_urls" "cognix.includeNix" "cognix.fake_pip" "python-env" ]))
  (t.case "every removal says what to do instead" [ ] (builtins.filter (e: builtins.stringLength e.why < 20) table.removed))
  (t.case "nix/modules imports the compatibility module" true (builtins.elem ../modules/original-cognix.nix (import ../modules).imports))
]
