# The original cognix's options through mkCognixImage under nixpkgs' real module system (lib from a
# nixpkgs or nixpkgs.lib checkout; the packages and dream2nix stay stubs): what lands in the image.
#   nix-instantiate --eval --strict --json nix/tests/original-cognix-lib.nix --arg libPath /path/to/nixpkgs/lib
# Not in nix/tests/default.nix (no nixpkgs there); tests/nix/test_nix_original_cognix.py runs it
# when COGNIX_NIXPKGS_LIB names a checkout. Evaluates to [ case ].
{ libPath }:
let
  t = import ./lib.nix;
  stubs = import ./stub-pkgs.nix;
  inherit (stubs) drv;
  lib = import libPath;
  pkgs = stubs.pkgs // {
    inherit lib;
    # the fixture's lock lists ffmpeg and libgl1; its default.nix adds pkgs.ebsynth to rootPackages
    libGL = drv "libGL";
    ebsynth = drv "ebsynth";
    hello = drv "hello";
    libfoo = drv "libfoo";
  };
  # dream2nix: only the env it returns (the stub's merge check reads the stub lib's mkOption shape)
  dream2nix = stubs.dream2nix // { lib.evalModules = args: { pyEnv = stubs.pyEnv args; }; };
  cognixLib = import ../lib { inherit pkgs dream2nix; cognixSrc = "/cognix-src"; };
  image = modules: cognixLib.mkCognixImage { modelDir = ./fixtures/nix-model; name = "nix-model"; inherit modules; };
  contents = img: map (d: d.name) img.env.passthru.base.args.contents;
  # the libraries every wheel is autoPatchelf'ed against (nix/lib/python-env.nix)
  wheelLibs = img: map (d: d.name) (builtins.elemAt img.pythonEnv.d2nArgs.modules 2).pip.drvs.torch.mkDerivation.buildInputs;
  warnings = img: img.modules.config.warnings;
  # the image's extra Env as `cognix image-spec --environment JSON` gets it (the spec makes the image's Env)
  env = img:
    let
      args = img.imageSpec.args;
      at = builtins.head (builtins.filter (i: builtins.elemAt args i == "--environment") (builtins.genList (i: i) (builtins.length args)));
      extra = builtins.fromJSON (builtins.elemAt args (at + 1));
    in
    map (k: "${k}=${extra.${k}}") (builtins.attrNames extra);

  plain = image [ ];
  asLines = image [ { cognix.sourceIgnores = "*.ckpt\n/models/*\n"; } ];
  asList = image [ { cognix.sourceIgnores = [ "*.ckpt" "/models/*" ]; } ];
  both = image [ { cognix.sourceIgnores = "*.ckpt\n"; } { cognix.sourceIgnores = [ "/models/*" ]; } ];
  unlisted = image [ { cognix.systemPackages.hello = pkgs.hello; cognix.systemPackages.libfoo1 = [ pkgs.libfoo pkgs.hello ]; } ];
  remapped = image [ { cognix.systemPackages.ffmpeg = drv "my-ffmpeg"; } ];
  oldMaxLayers = image [ { dockerTools.streamLayeredImage.maxLayers = 50; } ];
  oldContents = image [ { dockerTools.streamLayeredImage.contents = [ pkgs.hello ]; } ];
  oldName = image [ { name = "old-name"; } ];
  mergeNative = image [ { cognix.merge-native.cublas = "force"; } ];
  oldEnv = image [ { cognix.environment.PYTHONUNBUFFERED = true; cognix.environment.WORKERS = 2; } ];
  snapshot = image [ { cog.build.python_snapshot_date = "2023-10-05"; } ];
  # the original's examples/gte-small/default.nix, as written for it
  gteSmall = image [ { cog.build.python_snapshot_date = "2023-10-05"; cog.build.cog_version = "0.8.6"; cognix.includeNix = true; cognix.fake_pip = true; } ];
  # and its examples/ebsynth-cpu/default.nix, minus the two removed options: cog.yaml does not list ebsynth
  ebsynth = image [ { cognix.systemPackages.ebsynth = drv "ebsynth-built"; } ];
in
[
  (t.case "baseline: lock's system packages, the fixture's rootPackages, no warnings"
    { contents = [ "python3.11-env" "tini" "cacert" "bash" "coreutils" "ffmpeg" "libGL" "ebsynth" ]; warnings = [ ]; system_packages = [ "ffmpeg" "libgl1" ]; }
    { contents = contents plain; warnings = warnings plain; system_packages = plain.config.cog.build.system_packages; })

  # b
  (t.case "sourceIgnores: lines and a list give the same ignore list" asList.source.ignores asLines.source.ignores)
  (t.case "sourceIgnores: the patterns are in the ignore list" true
    (builtins.all (p: builtins.elem p asLines.source.ignores) [ "*.ckpt" "/models/*" ]))
  (t.case "sourceIgnores: lines and a list from two modules concatenate (in the module system's order)"
    (builtins.sort builtins.lessThan asList.source.ignores) (builtins.sort builtins.lessThan both.source.ignores))
  (t.case "sourceIgnores: the option's value is a list either way" [ "*.ckpt" "/models/*" ] asLines.config.cognix.sourceIgnores)

  # c
  (t.case "systemPackages.NAME not in cog.yaml: in system_packages" [ "ffmpeg" "libgl1" "hello" "libfoo1" ] unlisted.config.cog.build.system_packages)
  (t.case "systemPackages.NAME not in cog.yaml: in the image's contents"
    [ "python3.11-env" "tini" "cacert" "bash" "coreutils" "ffmpeg" "libGL" "hello" "libfoo" "hello" "ebsynth" ] (contents unlisted))
  (t.case "systemPackages.NAME not in cog.yaml: the wheels link against it" [ "ffmpeg" "libGL" "hello" "libfoo" "hello" ] (wheelLibs unlisted))
  (t.case "systemPackages.NAME in cog.yaml: replaces the table's package, once" [ "python3.11-env" "tini" "cacert" "bash" "coreutils" "my-ffmpeg" "libGL" "ebsynth" ]
    (contents remapped))
  (t.case "the original's ebsynth-cpu default.nix: the package is in the image" true (builtins.elem "ebsynth-built" (contents ebsynth)))

  # d: renamed, with a warning
  (t.case "dockerTools.streamLayeredImage.maxLayers -> cognix.maxLayers" { value = 50; storeLayers = true; } {
    value = oldMaxLayers.config.cognix.maxLayers;
    storeLayers = t.contains "'--max-layers' '50'" oldMaxLayers.env.passthru.spec.script;  # the spec keeps one for /src
  })
  (t.case "dockerTools.streamLayeredImage.maxLayers: a warning naming the new option" true
    (builtins.length (warnings oldMaxLayers) == 1 && t.contains "`dockerTools.streamLayeredImage.maxLayers' (the original cognix's name" (builtins.head (warnings oldMaxLayers))
      && t.contains "is now `cognix.maxLayers'" (builtins.head (warnings oldMaxLayers))))
  (t.case "reading the old name gives the new option's value" 50 oldMaxLayers.config.dockerTools.streamLayeredImage.maxLayers)
  (t.case "dockerTools.streamLayeredImage.contents -> cognix.rootPackages" [ "hello" "ebsynth" ] (map (d: d.name) oldContents.config.cognix.rootPackages))
  (t.case "dockerTools.streamLayeredImage.contents: in the image" true (builtins.elem "hello" (contents oldContents)))
  (t.case "name -> cognix.name" { image = "stream-old-name"; warned = true; }
    { image = oldName.name; warned = t.contains "is now `cognix.name'" (builtins.head (warnings oldName)); })
  (t.case "merge-native.cublas = \"force\" -> cognix.cudaFromNixpkgs = true, with a warning" { on = true; warned = true; }
    { on = mergeNative.config.cognix.cudaFromNixpkgs; warned = t.contains "maps to `cognix.cudaFromNixpkgs'" (builtins.head (warnings mergeNative)); })
  (t.case "environment: the original's true and 2 become \"1\" and \"2\"" true
    (builtins.elem "PYTHONUNBUFFERED=1" (env oldEnv) && builtins.elem "WORKERS=2" (env oldEnv)))

  # d: removed, a clear error (the text is checked by tests/nix/test_nix_original_cognix.py)
  (t.case "cog.build.python_snapshot_date stops the evaluation" true (t.fails snapshot.name))
  (t.case "... and says why" true (builtins.any (a: t.contains "`cog.build.python_snapshot_date' (an option of the original cognix" a.message) snapshot.modules.config.assertions))
  (t.case "the original's gte-small default.nix: four removed options, each named" 4 (builtins.length gteSmall.modules.config.assertions))
  (t.case "without them nothing is asserted" [ ] plain.modules.config.assertions)
  (t.case "the removed names read as null: `nix eval .#NAME.modules.config.cog --json` still prints" true
    (builtins.isString (builtins.toJSON plain.modules.config.cog) && plain.modules.config.cog.build.python_snapshot_date == null))
  (t.case "the whole config serialises (aliases read the new options)" true (builtins.isString (builtins.toJSON plain.modules.config)))
]
