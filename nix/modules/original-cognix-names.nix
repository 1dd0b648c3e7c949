# The options of the original cognix (datakami/cognix: modules/cog/interface.nix, modules/cog/nix.nix,
# modules/stream-layered-image, and dream2nix's `name` and `python-env` it builds on) that cognix
# declares under another name, or not at all. Options it keeps under the same name (cog.build.gpu,
# cuda, python_version, system_packages, python_packages; cog.predict, train, concurrency.max,
# weights; cognix.systemPackages, sourceIgnores, environment) are not listed. Pure data, read by
# ./original-cognix.nix and nix/tests/original-cognix.nix.
let
  image = name: [ "dockerTools" "streamLayeredImage" name ];
  mergeNative = which: {
    from = [ "cognix" "merge-native" which ];
    to = [ "cognix" "cudaFromNixpkgs" ];
    values = [ false true "force" ];
    when = v: v != false;
    value = true;
    note = "cognix.cudaFromNixpkgs = true takes cudart, cuBLAS and cuDNN from nixpkgs' cudaPackages_<cuda> (true or \"force\" set it; false changes nothing)";
  };
  fixedImage = "the image's layout and config are cognix's, the same as the native engine's: Env through cognix.environment, User through cognix.user, the revision label through cognix.revision, extra store paths through cognix.rootPackages";
in
{
  # the same setting under a new name: definitions go to `to`, with a warning
  renamed = [
    { from = [ "name" ]; to = [ "cognix" "name" ]; }
    { from = image "maxLayers"; to = [ "cognix" "maxLayers" ]; }
    { from = image "contents"; to = [ "cognix" "rootPackages" ]; }
  ];

  # a setting whose values map onto another option's: a value `when` accepts sets `to` to `value`, with a warning
  # (merge-native swapped one nvidia-* wheel's libraries for nixpkgs'; cudaFromNixpkgs adds nixpkgs' three)
  changed = map mergeNative [ "cublas" "cudnn" ];

  # no equivalent: defining one stops evaluation with `why` (what to do instead)
  removed = [
    { from = [ "cog" "build" "python_snapshot_date" ]; why = "`cognix lock` pins every wheel by sha256 in lock.json, so the lock is the snapshot; run `cognix lock` again to move the pins"; }
    { from = [ "cog" "build" "python_extra_index_urls" ]; why = "package indexes are read when locking: list them in cog.yaml (build.python_extra_index_urls, or an --extra-index-url line in python_packages or python_requirements), then run `cognix lock`"; }
    { from = [ "cog" "build" "cog_version" ]; why = "images run cognix's own runtime (cognix/runtime, Cog's HTTP API) instead of the cog Python package; its version comes from lock.json (label run.cog.version)"; }
    { from = [ "cognix" "rootPath" ]; why = "the model directory is the one given to cognix.lib.cognixFlake { NAME = ./dir; } or singleModelFlake { dir = ./.; }"; }
    { from = [ "cognix" "postCopyCommands" ]; why = "/src is the model directory minus .dockerignore and cognix.sourceIgnores, copied as it is; commit the files, or add a package with them to cognix.rootPackages"; }
    { from = [ "cognix" "addCudaLibraryPath" ]; why = "GPU images always set LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib; set cognix.environment.LD_LIBRARY_PATH to change it"; }
    { from = [ "cognix" "openapi_schema" ]; why = "the schema is generated during the build by the image's own Python env (label run.cog.openapi_schema, /src/.cog/openapi_schema.json)"; }
    { from = [ "cognix" "python_root_packages" ]; why = "the image holds every wheel in lock.json; lock a cog.yaml with fewer python_packages instead"; }
    { from = [ "cognix" "fake_pip" ]; why = "images run cognix's runtime, not the cog package, and cognix adds no pip stand-in"; }
    { from = [ "cognix" "cudaPackages" ]; why = "use nixpkgs' set directly (pkgs.cudaPackages_12_1 ...), or cognix.cudaFromNixpkgs = true for cudart, cuBLAS and cuDNN from cudaPackages_<cuda>"; }
    { from = [ "cognix" "includeNix" ]; why = "cognix images carry no Nix; add the tools the model needs with cognix.rootPackages"; }
    { from = [ "cognix" "nix" "extraOptions" ]; why = "cognix images carry no Nix (so no nix.conf)"; }
    { from = [ "python-env" ]; why = "the Python env is built by cognix from lock.json's wheels (nix/lib/python-env.nix); dream2nix's settings (python-env.pip.*, per-wheel python-env.pip.drvs.NAME) are not exposed; change cog.yaml and run `cognix lock`"; }
    { from = image "created"; why = "set cognix.sourceDateEpoch (whole seconds since 1970-01-01 UTC) instead"; }
  ] ++ map (name: { from = image name; why = fixedImage; }) [
    "tag" "fromImage" "config" "architecture" "extraCommands" "fakeRootCommands" "enableFakechroot"
    "includeStorePaths" "passthru" "extraJSONFile" "includeNixDB" "streamScript"
  ];
}
