# Stand-ins for nixpkgs, its lib and dream2nix (no nixpkgs on the test machines): they return
# recognisable values and record the arguments they get, so tests assert what cognix passes.
let
  t = import ./lib.nix;
  m = import ./merge.nix;
  # like lib.evalModules, refuse two definitions of one option that its type cannot merge
  # (nix/tests/merge.nix); the stubs' results stay fixed, this only throws
  checked = modules: result: builtins.deepSeq (m.merge modules) result;
in
rec {
  drv = name: { inherit name; type = "derivation"; outPath = "/nix/store/00000000000000000000000000000000-${name}"; };

  # the few lib functions cognix calls, reimplemented on builtins
  lib = {
    mkDefault = v: { _default = v; };
    mkForce = v: { _force = v; };
    mkOption = o: { _option = o; };
    mapAttrs = builtins.mapAttrs;
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    optionalAttrs = c: s: if c then s else { };
    splitString = sep: s: builtins.filter builtins.isString (builtins.split sep s);
    concatStringsSep = builtins.concatStringsSep;
    replaceStrings = builtins.replaceStrings;
    hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
    head = builtins.head;
    tail = builtins.tail;
    filter = builtins.filter;
    escapeShellArg = a: "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] a}'";
    getLib = d: d;
    cleanSource = src: { cleaned = src; };
    nameValuePair = name: value: { inherit name value; };
    mapAttrs' = f: set: builtins.listToAttrs (map (n: f n set.${n}) (builtins.attrNames set));
    # the module system itself is nixpkgs'; here it returns fixed options and records its input
    evalModules = args: checked args.modules {
      inherit args;
      config = {
        cog = {
          build = { gpu = true; cuda = "12.1"; python_version = "3.11"; system_packages = [ "ffmpeg" ]; run = [ ]; };
          predict = "predict.py:Predictor"; train = null; concurrency.max = 4; environment = [ "A=1" ];
        };
        cognix = {
          name = "nix-model"; maxLayers = 50; sourceIgnores = [ "*.ckpt" ]; environment = { }; systemPackages = { };
          rootPackages = [ (drv "ebsynth") ]; cudaFromNixpkgs = false; user = "cog"; revision = null;
          # the one value the tests vary per image (nix/tests/mk-image.nix): a module's definition, else
          # the option's default with SOURCE_DATE_EPOCH unset (so the suite does not depend on the shell's)
          sourceDateEpoch = (m.merge args.modules).cognix.sourceDateEpoch or 1;
        };
      };
    };
  };

  python311 = drv "python3.11" // {
    sitePackages = "lib/python3.11/site-packages";
    pkgs.toPythonModule = d: d // { pythonModule = true; };
  };
  pyEnv = d2nArgs: drv "python3.11-env" // {
    override = f: drv "python3.11-env" // { inherit d2nArgs; overridden = f { extraLibs = [ "wheel" ]; }; };
  };

  pkgs = {
    inherit lib python311;
    python3.pkgs = {
      buildPythonApplication = args: drv "cognix-cli" // { inherit args; };
      setuptools = "setuptools";
      pydantic = "pydantic"; click = "click"; pyyaml = "pyyaml"; jinja2 = "jinja2"; packaging = "packaging";
      installer = "installer"; python-debian = "python-debian"; google-cloud-storage = "gcs";
      starlette = "starlette"; uvicorn = "uvicorn"; httpx = "httpx";
    };
    uv = drv "uv";
    dockerTools.streamLayeredImage = t.recorder "streamLayeredImage";
    runCommand = name: env: script: drv name // { inherit env script; };
    fetchurl = t.recorder "fetchurl";
    skopeo = drv "skopeo";
    writeShellScriptBin = name: text: drv name // { inherit text; };
    mkShell = args: drv (args.name or "nix-shell") // { inherit args; };
    nix-gitignore.gitignoreSourcePure = ignores: dir: drv "source" // { inherit ignores dir; };
    jq = drv "jq";
    nix = drv "nix";
    runtimeShell = "/bin/sh";
    tini = drv "tini";
    cacert = drv "cacert";
    bashInteractive = drv "bash";
    coreutils = drv "coreutils";
    ffmpeg = drv "ffmpeg";
  };

  # what dream2nix's pip module (at flake.lock's pin) defines in every wheel's module, at the
  # priorities it uses (modules/dream2nix/pip/default.nix, commonModule)
  d2nWheelModule = {
    mkDerivation = {
      doCheck = lib.mkDefault false;
      dontStrip = lib.mkDefault true;
      nativeBuildInputs = [ (drv "unzip") (drv "auto-patchelf-hook") ];
      buildInputs = [ (drv "manylinux1") ];
      preFixup = "addAutoPatchelfSearchPath $propagatedBuildInputs\n";
    };
  };
  # dream2nix's community overrides at the pin (overrides/python/<name>/default.nix), as far as
  # they define options cognix's wheel module defines too
  d2nOverrides = {
    torch = {
      mkDerivation.dontStrip = true;
      mkDerivation.nativeBuildInputs = [ (drv "auto-add-opengl-runpath-hook") ];
      env.autoPatchelfIgnoreMissingDeps = [ "libcuda.so.1" ];
    };
    triton = {
      env.pythonRemoveDeps = [ "torch" ];
      mkDerivation.nativeBuildInputs = [ (drv "python-relax-deps-hook") ];
    };
  };

  dream2nix = {
    # every locked wheel's module list, merged: dream2nix's own module, its community override,
    # then what the caller puts in pip.drvs.<name> (the order the real evaluation lists them)
    lib.evalModules = args:
      let
        lockContent = builtins.foldl' (c: mod: if builtins.isAttrs mod && mod ? options.lock.content then mod.options.lock.content._option.default else c) { } args.modules;
        wheels = builtins.attrNames ((lockContent.fetchPipMetadata or { }).sources or { });
        merged = m.merge (map (name: { pip.drvs.${name} = d2nWheelModule; }) wheels
          ++ map (name: { pip.drvs.${name} = d2nOverrides.${name} or { }; }) wheels
          ++ args.modules);
      in
      builtins.deepSeq merged { pyEnv = pyEnv args; inherit merged; };
    modules.dream2nix.pip = "dream2nix-pip-module";
    modules.dream2nix.lock = "dream2nix-lock-module";
  };
}
