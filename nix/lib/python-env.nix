# The model's Python environment from lock.json's fetchPipMetadata through dream2nix's pip module:
# one store path per wheel (fetchurl with the locked sha256), manylinux wheels autoPatchelf'ed
# (dream2nix adds autoPatchelfHook + manylinux1 to every dependency; we add the image's system
# libraries), plus cognix's runtime from this repository.
{
  pkgs,
  dream2nix,
  cognixSrc,
}:
{
  name,
  modelDir,
  lockData,
  pythonVersion,
  # libraries wheels may link against (system_packages, CUDA from nixpkgs)
  extraLibs ? [ ],
  gpu ? false,
}:
let
  lib = pkgs.lib;
  python = import ./python.nix pkgs pythonVersion;

  sources = lockData.fetchPipMetadata.sources;

  # cognix lock writes lock.json, not dream2nix's refresh script: replace dream2nix's lock module
  # by one that only carries the content (original cognix does the same at this dream2nix pin)
  lockProxy = {
    disabledModules = [ dream2nix.modules.dream2nix.lock ];
    options.lock = {
      fields = lib.mkOption { };
      invalidationData = lib.mkOption { };
      content = lib.mkOption { default = { inherit (lockData) fetchPipMetadata; }; };
    };
  };

  # per wheel: autoPatchelf against the image's libraries; on GPU the driver's libraries come from
  # the host at run time (NVIDIA container runtime, LD_LIBRARY_PATH=/usr/local/nvidia/lib64).
  # A list, never a string: dream2nix's own overrides (overrides/python/torch: [ "libcuda.so.1" ])
  # define the same env variable, and its type (attrsOf (oneOf [ bool int str path package
  # (listOf ...) ])) concatenates lists from several modules but refuses a string next to a list
  # ("defined multiple times"). mkDerivation turns the list into a space-separated variable.
  ignoredMissingLibs = lib.optionals gpu [ "libcuda.so.1" "libnvidia-ml.so.1" ];
  wheelModule = {
    mkDerivation.buildInputs = extraLibs;
    env.autoPatchelfIgnoreMissingDeps = ignoredMissingLibs;
  };

  env = dream2nix.lib.evalModules {
    packageSets.nixpkgs = pkgs;
    modules = [
      dream2nix.modules.dream2nix.pip
      lockProxy
      {
        name = "cognix-env-${name}";
        version = "0.0.0";
        paths.projectRoot = modelDir;
        paths.projectRootFile = "cog.yaml";
        paths.package = modelDir;
        deps.python = python;
        # every locked wheel is a root of the env (the lock is already flat)
        pip.flattenDependencies = true;
        pip.drvs = lib.mapAttrs (_: _: wheelModule) sources;
      }
    ];
  };

  runtime = python.pkgs.toPythonModule (pkgs.runCommand "cognix-runtime" { } ''
    dest=$out/${python.sitePackages}/cognix
    mkdir -p $dest
    cp ${cognixSrc}/cognix/__init__.py $dest/
    cp -r --no-preserve=mode ${cognixSrc}/cognix/runtime $dest/runtime
    find $dest -name __pycache__ -prune -exec rm -rf {} +
  '');
in
env.pyEnv.override (old: {
  extraLibs = (old.extraLibs or [ ]) ++ [ runtime ];
})
