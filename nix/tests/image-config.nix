# Image config: the native engine's Entrypoint/Cmd/Env/Labels (cognix/engines/native/plan.py),
# computed from cog.* options.
let
  t = import ./lib.nix;
  cog = {
    build.gpu = true;
    predict = "predict.py:Predictor";
    train = null;
    concurrency.max = 4;
    environment = [ "HF_HOME=/src/.hf" "A=b=c" "LANG=en_US.UTF-8" ];
  };
  cfg = import ../lib/image-config.nix {
    inherit cog;
    environment = { EXTRA = "1"; HF_HOME = "/override"; };
    tiniPath = "/nix/store/x-tini/bin/tini";
    cogConfigJSON = "{\"build\":{\"gpu\":true}}";
    runtimeVersion = "0.1.0";
    title = "torch-demo";
    revision = "abc123";
  };
  cpu = import ../lib/image-config.nix {
    cog = cog // { build.gpu = false; environment = [ ]; train = "train.py:T"; concurrency.max = null; };
    tiniPath = "/t";
    cogConfigJSON = "{}";
    runtimeVersion = "0.1.0";
    title = "hello";
  };
  path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
in
[
  (t.case "entrypoint is tini" [ "/nix/store/x-tini/bin/tini" "--" ] cfg.Entrypoint)
  (t.case "cmd runs the cognix runtime" [ "python" "-m" "cognix.runtime" ] cfg.Cmd)
  (t.case "workdir" "/src" cfg.WorkingDir)
  (t.case "non-root user cog" "cog" cfg.User)
  (t.case "port" { "5000/tcp" = { }; } cfg.ExposedPorts)
  (t.case "env sorted; gpu vars; cog.yaml environment wins over defaults, cognix.environment over all; values may hold =" [
    "A=b=c"
    "COG_MAX_CONCURRENCY=4"
    "COG_PREDICT_TYPE_STUB=predict.py:Predictor"
    "EXTRA=1"
    "HF_HOME=/override"
    "LANG=en_US.UTF-8"
    "LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib"
    "NVIDIA_DRIVER_CAPABILITIES=all"
    "NVIDIA_VISIBLE_DEVICES=all"
    path
    "PYTHONUNBUFFERED=1"
  ] cfg.Env)
  (t.case "cpu env: no NVIDIA vars, train stub, no concurrency when unset" [
    "COG_PREDICT_TYPE_STUB=predict.py:Predictor"
    "COG_TRAIN_TYPE_STUB=train.py:T"
    "LANG=C.UTF-8"
    path
    "PYTHONUNBUFFERED=1"
  ] cpu.Env)
  (t.case "labels" {
    "org.opencontainers.image.created" = "1970-01-01T00:00:01Z";
    "org.opencontainers.image.revision" = "abc123";
    "org.opencontainers.image.title" = "torch-demo";
    "run.cog.config" = "{\"build\":{\"gpu\":true}}";
    "run.cog.has_init" = "true";
    "run.cog.version" = "0.1.0";
  } cfg.Labels)
  (t.case "no revision label without a revision" false (cpu.Labels ? "org.opencontainers.image.revision"))
  (t.case "bad environment entry fails" true
    (t.fails (builtins.deepSeq (import ../lib/image-config.nix {
      cog = cog // { environment = [ "NOEQUALS" ]; };
      tiniPath = "/t"; cogConfigJSON = "{}"; runtimeVersion = "0"; title = "x";
    }).Env null)))
]
