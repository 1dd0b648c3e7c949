# lock.json "cognix" section -> cog.* module definitions, all as mkDefault.
let
  t = import ./lib.nix;
  mkDefault = value: { _default = value; };
  lock = (builtins.fromJSON (builtins.readFile ./fixtures/lock-gpu.json)).cognix;
  out = import ../lib/cog-config.nix { inherit mkDefault; } lock;
  cpu = import ../lib/cog-config.nix { inherit mkDefault; } {
    config = { build.python_version = "3.12"; predict = "p.py:P"; build.run = [ "echo hi" ]; };
    target = { python_version = "3.12"; };
  };
in
[
  (t.case "gpu from cog.yaml" { _default = true; } out.cog.build.gpu)
  (t.case "cuda from the lock's target" { _default = "12.1"; } out.cog.build.cuda)
  (t.case "python major.minor from target" { _default = "3.11"; } out.cog.build.python_version)
  (t.case "system packages passed through" { _default = [ "ffmpeg" "libgl1" ]; } out.cog.build.system_packages)
  (t.case "concurrency" { _default = 4; } out.cog.concurrency.max)
  (t.case "predict" { _default = "predict.py:Predictor"; } out.cog.predict)
  (t.case "train absent is null" { _default = null; } out.cog.train)
  (t.case "environment list" { _default = [ "HF_HOME=/src/.hf" "A=b=c" ]; } out.cog.environment)
  (t.case "cpu: gpu false" { _default = false; } cpu.cog.build.gpu)
  (t.case "cpu: cuda null" { _default = null; } cpu.cog.build.cuda)
  (t.case "cpu: concurrency unset is null" { _default = null; } cpu.cog.concurrency.max)
  (t.case "no python_version anywhere: the shared default (cognix/config/defaults.json)"
    { _default = (builtins.fromJSON (builtins.readFile ../../cognix/config/defaults.json)).python_version; }
    (import ../lib/cog-config.nix { inherit mkDefault; } { config = { }; }).cog.build.python_version)
  (t.case "run strings become steps" { _default = [ { command = "echo hi"; mounts = [ ]; } ]; } cpu.cog.build.run)
]
