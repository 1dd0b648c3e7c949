# The OCI image config (Entrypoint, Cmd, Env, Labels...), the same as the native engine's
# (cognix/engines/native/plan.py: image_env, image_config). Pure: store paths come in as strings.
{
  # evaluated cog.* options (nix/modules/cog.nix)
  cog,
  # cognix.environment: extra NAME = value pairs (win over everything else)
  environment ? { },
  # "${tini}/bin/tini"
  tiniPath,
  # compact, key-sorted JSON of the effective cog.yaml (run.cog.config)
  cogConfigJSON,
  runtimeVersion,
  title,
  revision ? null,
  user ? "cog",
  # nix/lib/source-date.nix from SOURCE_DATE_EPOCH; unset: the native engine's DEFAULT_CREATED
  created ? "1970-01-01T00:00:01Z",
}:
let
  splitEnv = entry:
    let m = builtins.match "([^=]+)=(.*)" entry; in
    if m == null then throw "cog.yaml environment entry `${entry}` is not NAME=value"
    else { name = builtins.elemAt m 0; value = builtins.elemAt m 1; };
  opt = cond: set: if cond then set else { };
  base = {
    PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    PYTHONUNBUFFERED = "1";
    LANG = "C.UTF-8";
  }
  // opt cog.build.gpu {
    NVIDIA_DRIVER_CAPABILITIES = "all";
    NVIDIA_VISIBLE_DEVICES = "all";
    # the NVIDIA container runtime mounts the host driver here; the wheels' CUDA libraries are
    # found through their RPATHs (autoPatchelf), so no wheel directories are needed
    LD_LIBRARY_PATH = "/usr/local/nvidia/lib64:/usr/local/nvidia/lib";
  };
  # set after cog.yaml's environment, as Cog's Dockerfile does (and cognix.CogConfig.runtime_env)
  runnerEnv =
    opt (cog.predict != null) { COG_PREDICT_TYPE_STUB = cog.predict; }
    // opt (cog.train != null) { COG_TRAIN_TYPE_STUB = cog.train; }
    // opt (cog.concurrency.max != null) { COG_MAX_CONCURRENCY = toString cog.concurrency.max; };
  envSet = base // builtins.listToAttrs (map splitEnv cog.environment) // runnerEnv // environment;
in
{
  Entrypoint = [ tiniPath "--" ];
  Cmd = [ "python" "-m" "cognix.runtime" ];
  WorkingDir = "/src";
  # attrNames is sorted, so Env is sorted by name like the native engine's
  Env = map (name: "${name}=${envSet.${name}}") (builtins.attrNames envSet);
  User = user;
  ExposedPorts = { "5000/tcp" = { }; };
  # run.cog.openapi_schema is added at build time (nix/lib/image.nix): it needs the built env
  Labels = {
    "org.opencontainers.image.created" = created;
    "org.opencontainers.image.title" = title;
    "run.cog.config" = cogConfigJSON;
    "run.cog.has_init" = "true";
    "run.cog.version" = runtimeVersion;
  } // opt (revision != null) { "org.opencontainers.image.revision" = revision; };
}
