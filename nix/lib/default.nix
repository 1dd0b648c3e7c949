# cognix's Nix library: build a Cog model directory (cog.yaml + lock.json [+ default.nix]) into a
# layered image with the same layout, labels and layer policy as the native engine.
{
  pkgs,
  dream2nix,
  # this repository (the runtime is copied from it)
  cognixSrc,
  revision ? null,
  # the cognix CLI package (for push-weights); null = `cognix` from PATH
  cognixCli ? null,
}:
let
  lib = pkgs.lib;

  readLock = modelDir: relPath:
    let file = modelDir + "/lock.json"; in
    if builtins.pathExists file then builtins.fromJSON (builtins.readFile file)
    else throw "${relPath}/lock.json is missing: run `cognix lock ${relPath}`";

  evalModel = { modelDir, name, relPath, modules }:
    let
      lockData = readLock modelDir relPath;
      userModule = modelDir + "/default.nix";
    in
    lockData // {
      eval = lib.evalModules {
        specialArgs = { inherit pkgs; };
        modules = [
          ../modules
          (import ./cog-config.nix { inherit (lib) mkDefault; } lockData.cognix)
          { cognix.name = lib.mkDefault name; cognix.revision = lib.mkDefault revision; }
        ] ++ lib.optional (builtins.pathExists userModule) userModule ++ modules;
      };
    };

  mkCognixImage = { modelDir, name ? baseNameOf modelDir, relPath ? name, modules ? [ ] }:
    let
      model = evalModel { inherit modelDir name relPath modules; };
      cfg = model.eval.config;
      cog = cfg.cog;
      cudaSet = pkgs."cudaPackages_${lib.replaceStrings [ "." ] [ "_" ] cog.build.cuda}";
      cudaLibs = lib.optionals (cog.build.gpu && cfg.cognix.cudaFromNixpkgs) [ cudaSet.cuda_cudart cudaSet.libcublas cudaSet.cudnn ];
      systemPackages = import ./system-packages.nix { inherit pkgs; extra = cfg.cognix.systemPackages; } cog.build.system_packages;
      pythonEnv = import ./python-env.nix { inherit pkgs dream2nix cognixSrc; } {
        inherit (cfg.cognix) name;
        inherit modelDir;
        lockData = model;
        pythonVersion = cog.build.python_version;
        extraLibs = systemPackages ++ cudaLibs;
        inherit (cog.build) gpu;
      };
      weightSets = model.cognix.weights or [ ];
      weights = import ./weights.nix { inherit (pkgs) fetchurl runCommand; };
      # build-mode weights: one store path per layer group, each its own image layer
      weightLayers = weights.layers modelDir weightSets;
      dockerignore = modelDir + "/.dockerignore";
      ignores = [ ".git" "result" "result-*" "*.nix" "flake.lock" "lock.json" ]
        ++ lib.optionals (builtins.pathExists dockerignore) (lib.splitString "\n" (builtins.readFile dockerignore))
        ++ cfg.cognix.sourceIgnores
        # weights files arrive through their own layers (build) or at start (runtime), never via /src
        ++ weights.sourceIgnores weightSets;
      source = pkgs.nix-gitignore.gitignoreSourcePure ignores modelDir;
      # SOURCE_DATE_EPOCH (through cognix.sourceDateEpoch): config `created`, its label, every file's mtime
      time = (import ./source-date.nix).time cfg.cognix.sourceDateEpoch;
      # the lock as the image spec reads it (cognix image-spec, cognix/image/spec.py): lock.json's
      # config, with what a default.nix may set in cog.* (gpu, environment, runners, concurrency)
      # in place of the lock's, empty values left out as cog.yaml's label has them
      lockConfig = model.cognix.config or { };
      set = name: value: lib.optionalAttrs (value != null && value != [ ] && value != false) { ${name} = value; };
      specConfig = builtins.removeAttrs lockConfig [ "predict" "train" "concurrency" "environment" ] // {
        build = builtins.removeAttrs (lockConfig.build or { }) [ "gpu" ] // set "gpu" cog.build.gpu;
      } // set "predict" cog.predict // set "train" cog.train // set "environment" cog.environment
        // set "concurrency" (if cog.concurrency.max == null then null else { max = cog.concurrency.max; });
      specLockData = { cognix = { config = specConfig; target = model.cognix.target or { }; weights = weightSets; }; };
      specLock = builtins.toFile "${cfg.cognix.name}-spec-lock.json" (builtins.toJSON specLockData);
      environment = cfg.cognix.environment // lib.optionalAttrs (cudaLibs != [ ]) {
        LD_LIBRARY_PATH = lib.concatStringsSep ":" ([ "/usr/local/nvidia/lib64" "/usr/local/nvidia/lib" ] ++ map (p: "${lib.getLib p}/lib") cudaLibs);
      };
      specArgs = [ specLock "--title" cfg.cognix.name "--user" cfg.cognix.user "--tini" "${pkgs.tini}/bin/tini"
        "--environment" (builtins.toJSON environment) ]
        ++ lib.optionals (cfg.cognix.revision != null) [ "--revision" cfg.cognix.revision ];
      run = cog.build.run;
    in
    # throws (naming `cognix weights push`) while runtime-mode files have no location
    assert (weights.manifest { weights = weightSets; inherit relPath; }) != false;
    assert run == [ ] || throw "${relPath}: cog.yaml build.run is not supported by the Nix engine; put the packages it installs in default.nix (cognix.rootPackages)";
    import ./image.nix { inherit (pkgs) runCommand jq runtimeShell skopeo; inherit (pkgs.dockerTools) streamLayeredImage; inherit cognixCli; } {
      inherit (cfg.cognix) name maxLayers;
      inherit pythonEnv source specArgs;
      inherit (time) epoch;
      contents = [ pythonEnv pkgs.tini pkgs.cacert pkgs.bashInteractive pkgs.coreutils ] ++ systemPackages ++ cudaLibs ++ cfg.cognix.rootPackages
        ++ weightLayers;
    } // {
      # `nix run .#<name>.push-weights [-- --bucket B]`: upload this model's weights (cognix weights push),
      # run from the flake's root
      push-weights = pkgs.writeShellScriptBin "push-weights-${cfg.cognix.name}" ''
        exec ${if cognixCli == null then "cognix" else "${cognixCli}/bin/cognix"} weights push ${lib.escapeShellArg relPath} "$@"
      '';
      inherit pythonEnv source weightLayers;
      # what `cognix image-spec` gets: its lock (as data) and arguments
      imageSpec = { lock = specLockData; args = specArgs; };
      config = cfg;
      # the module evaluation (options, config) for inspection: nix eval .#<name>.modules.config.cog
      modules = model.eval;
    };
in
{
  inherit mkCognixImage readLock;
  debianPackages = import ./debian-packages.nix;
}
