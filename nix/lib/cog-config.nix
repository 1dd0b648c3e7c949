# lock.json's "cognix" section -> module definitions for nix/modules (cog.* options).
# Every value is wrapped in `mkDefault`, so a model's default.nix overrides it with a plain
# definition. Pure: `mkDefault` is passed in (lib.mkDefault in the flake, a recorder in tests).
{ mkDefault }:
lock:
let
  config = lock.config or { };
  build = config.build or { };
  target = lock.target or { };
  orNull = set: name: set.${name} or null;
in
{
  cog = {
    build = {
      gpu = mkDefault (build.gpu or target.gpu or false);
      # the lock decides cuda when cog.yaml leaves it unset (derived from torch)
      cuda = mkDefault (target.cuda or (orNull build "cuda"));
      cudnn = mkDefault (target.cudnn or (orNull build "cudnn"));
      # a lock always has target.python_version; the shared default is cog.yaml's (cognix/config/model.py)
      python_version = mkDefault (target.python_version or build.python_version
        or (builtins.fromJSON (builtins.readFile ../../cognix/config/defaults.json)).python_version);
      system_packages = mkDefault (build.system_packages or [ ]);
      python_packages = mkDefault (build.python_packages or [ ]);
      run = mkDefault (map (step: if builtins.isString step then { command = step; mounts = [ ]; } else step) (build.run or [ ]));
    };
    predict = mkDefault (orNull config "predict");
    train = mkDefault (orNull config "train");
    concurrency.max = mkDefault ((config.concurrency or { }).max or null);
    environment = mkDefault (config.environment or [ ]);
    weights = mkDefault (config.weights or [ ]);
  };
}
