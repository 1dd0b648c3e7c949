# The stand-in package set: every package is a plain `derivation` (builder /bin/sh that fails, so
# nothing here can be built by mistake) whose attributes carry its inputs, so drvPaths change when
# what cognix or dream2nix passes changes. Only the attributes cognix (flake.nix, nix/) and
# dream2nix's pip module (at the flake.lock pin) touch are here; an evaluation that needs another
# one fails naming it, which is the point: add it here with the shape nixpkgs gives it.
{ lib, system, config ? { } }:
let
  inherit (builtins) isFunction isAttrs isList removeAttrs;

  # what builtins.derivation accepts: no functions, no attrsets other than derivations (or, with
  # __structuredAttrs, any JSON-able value)
  storable = structured: v:
    if isFunction v then false
    else if isList v then lib.all (storable structured) v
    else if isAttrs v then v ? outPath || (structured && lib.all (storable structured) (lib.attrValues v))
    else true;

  # stdenv.mkDerivation's shape: attrs or finalAttrs function; passthru, env, meta, overrideAttrs
  mkDerivation = argsOrFun:
    let
      args = if isFunction argsOrFun then lib.fix argsOrFun else argsOrFun;
      name = args.name or "${args.pname}-${args.version}";
      structured = args.__structuredAttrs or false;
      passthru = args.passthru or { };
      attrs = lib.filterAttrs (_: storable structured)
        (removeAttrs args [ "passthru" "meta" "env" "name" "args" "builder" "system" ]) // (args.env or { });
      drv = derivation (attrs // {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" "echo 'cognix stand-in nixpkgs: evaluation only, nothing builds' >&2; exit 1" ];
      });
    in
    drv // passthru // {
      inherit passthru;
      meta = args.meta or { };
      pname = args.pname or name;
      version = args.version or "";
      overrideAttrs = f:
        let r = f args; in mkDerivation (args // (if isFunction r then r args else r));
    };

  simple = name: mkDerivation { inherit name; };

  fetchurl = { url ? null, urls ? [ ], sha256 ? "", hash ? "", name ? baseNameOf (toString (if url != null then url else lib.head urls)), ... }@args:
    derivation {
      inherit name system;
      builder = "/bin/sh";
      urls = if url != null then [ url ] else urls;
      outputHashMode = "flat";
      outputHashAlgo = if hash != "" then null else "sha256";
      outputHash = if hash != "" then hash else sha256;
    };

  fetchSource = name: attrs: { hash ? "", sha256 ? "", ... }:
    derivation ({
      inherit name system;
      builder = "/bin/sh";
      outputHashMode = "recursive";
      outputHashAlgo = if hash != "" then null else "sha256";
      outputHash = if hash != "" then hash else sha256;
    } // attrs);

  writeText = name: text: mkDerivation { inherit name text; passAsFile = [ "text" ]; };
  writeScript = name: text: mkDerivation { inherit name text; passAsFile = [ "text" ]; executable = true; };
  writeScriptBin = name: text: mkDerivation { inherit name text; passAsFile = [ "text" ]; destination = "/bin/${name}"; };

  runCommand = name: env: buildCommand: mkDerivation ({ inherit name buildCommand; } // env);

  # nixpkgs' python-packages-base / wrapper.nix shapes: a package set per interpreter,
  # buildPythonPackage names "python3.X-pname-version", withPackages an overridable env
  mkPython = version:
    let
      mm = lib.versions.majorMinor version;
      libPrefix = "python${mm}";
      interpreter = mkDerivation { pname = "python3"; inherit version; } // {
        inherit version libPrefix;
        inherit (pkgs) stdenv;
        pythonVersion = mm;
        sitePackages = "lib/${libPrefix}/site-packages";
        executable = libPrefix;
        isPy3k = true;
        implementation = "cpython";
        pythonAtLeast = lib.versionAtLeast mm;
        pythonOlder = lib.versionOlder mm;
        pkgs = pythonPackages;
        withPackages = f: mkEnv { extraLibs = f pythonPackages; };
        buildEnv = lib.makeOverridable mkEnv;
      };

      mkEnv = lib.makeOverridable ({ extraLibs ? [ ], postBuild ? "", ignoreCollisions ? false, makeWrapperArgs ? [ ], extraOutputsToInstall ? [ ], ... }:
        mkDerivation {
          name = "${interpreter.name}-env";
          paths = [ interpreter ] ++ extraLibs;
          inherit postBuild ignoreCollisions makeWrapperArgs extraOutputsToInstall;
          passthru = { inherit interpreter; inherit (interpreter) sitePackages; env = simple "${interpreter.name}-env-shell"; };
        });

      # format: as nixpkgs at the 2024 pin, "setuptools" when neither format nor pyproject is given
      # (dream2nix leaves it null for sdists); current nixpkgs throws there instead
      buildPythonPackage = { pname, version, format ? null, pyproject ? null, passthru ? { }, nativeBuildInputs ? [ ], propagatedBuildInputs ? [ ], ... }@args:
        mkDerivation (args // {
          name = "${libPrefix}-${pname}-${version}";
          nativeBuildInputs = [ interpreter ] ++ nativeBuildInputs;
          inherit propagatedBuildInputs;
          format = if format != null then format else if pyproject == null then "setuptools" else if pyproject then "pyproject" else "other";
          passthru = passthru // { pythonModule = interpreter; };
        });

      leaf = pname: buildPythonPackage { inherit pname; version = "0-stand-in"; format = "wheel"; };

      pythonPackages = lib.genAttrs [
        "setuptools" "wheel" "pip" "tomli" "pydantic" "click" "pyyaml" "jinja2" "packaging" "installer"
        "python-debian" "google-cloud-storage" "starlette" "uvicorn" "httpx" "editables"
      ] leaf // {
        python = interpreter;
        inherit buildPythonPackage;
        buildPythonApplication = buildPythonPackage;
        toPythonModule = drv: drv // { pythonModule = interpreter; };
        toPythonApplication = drv: drv;
        pythonRelaxDepsHook = simple "python-relax-deps-hook";
        wheelUnpackHook = simple "wheel-unpack-hook";
      };
    in
    interpreter;

  cudaSet = version: {
    cudaVersion = version;
    cuda_cudart = simple "cuda_cudart-${version}";
    libcublas = simple "libcublas-${version}";
    cudnn = simple "cudnn-${version}";
    autoAddOpenGLRunpathHook = simple "auto-add-opengl-runpath-hook";
    autoAddDriverRunpath = simple "auto-add-driver-runpath-hook";
  };

  pkgs = {
    inherit lib system config mkDerivation fetchurl writeText writeScript writeScriptBin runCommand;
    path = ./.;
    stdenv = {
      inherit mkDerivation system;
      isLinux = true;
      isDarwin = false;
      hostPlatform = { inherit system; isLinux = true; isDarwin = false; };
      buildPlatform = pkgs.stdenv.hostPlatform;
      cc = simple "gcc-wrapper";
      shell = "${pkgs.bash}/bin/bash";
    };
    callPackage = lib.callPackageWith pkgs;
    fetchFromGitHub = { owner, repo, rev, ... }@args: fetchSource "source" { url = "github:${owner}/${repo}/${rev}"; } args;
    fetchgit = { url, rev, ... }@args: fetchSource "source" { inherit url rev; } args;
    writeShellScriptBin = name: text: writeScriptBin name "#!${pkgs.runtimeShell}\n${text}";
    writeShellScript = name: text: writeScript name "#!${pkgs.runtimeShell}\n${text}";
    writePython3 = name: _: text: writeScript name text;
    writePython3Bin = name: _: text: writeScriptBin name text;
    substituteAll = args: mkDerivation (args // { name = args.name or (baseNameOf (toString args.src)); });
    symlinkJoin = { name, paths, ... }@args: mkDerivation args;
    mkShell = args: mkDerivation ({ name = "nix-shell"; } // removeAttrs args [ "shellHook" ] // { shellHook = args.shellHook or ""; });
    runtimeShell = "${pkgs.bash}/bin/bash";
    nix-gitignore.gitignoreSourcePure = patterns: src:
      lib.cleanSourceWith { inherit src; name = "source"; filter = _: _: true; } // { inherit patterns; };
    dockerTools.streamLayeredImage = { name, tag ? null, contents ? [ ], config ? { }, maxLayers ? 100, extraCommands ? "", fakeRootCommands ? "", created ? "1970-01-01T00:00:01Z", ... }:
      let
        conf = writeText "${name}-conf.json" (builtins.toJSON { inherit config maxLayers created; contents = map toString (lib.toList contents); });
      in
      mkDerivation {
        name = "stream-${name}";
        inherit conf created extraCommands fakeRootCommands;
        passthru = { imageName = lib.toLower name; imageTag = if tag == null then "stand-in" else tag; isExe = true; inherit conf; };
      };
    pythonManylinuxPackages = { manylinux1 = simple "manylinux1"; manylinux2010 = simple "manylinux2010"; manylinux2014 = simple "manylinux2014"; };
    rustPlatform = { buildRustPackage = mkDerivation; };
    cudaPackages = cudaSet "12.1";
    cudaPackages_11_8 = cudaSet "11.8";
    cudaPackages_12_1 = cudaSet "12.1";
    cudaPackages_12_4 = cudaSet "12.4";
    python3 = pkgs.python311;
    python39 = mkPython "3.9.19";
    python310 = mkPython "3.10.14";
    python311 = mkPython "3.11.9";
    python312 = mkPython "3.12.4";
    python313 = mkPython "3.13.0b2";
  } // lib.genAttrs [
    "autoPatchelfHook" "unzip" "gawk" "bash" "bashInteractive" "coreutils" "gitMinimal" "git" "jq" "nix" "skopeo"
    "tini" "cacert" "uv" "nix-prefetch-scripts" "openssh" "ffmpeg" "glib" "libGL" "mesa" "curl" "wget"
  ] simple;
in
pkgs
