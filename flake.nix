{
  description = "cognix: bit-reproducible, layered OCI images for Cog models";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";
    dream2nix.url = "github:nix-community/dream2nix";
    dream2nix.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs = { self, nixpkgs, dream2nix }:
    let
      system = "x86_64-linux";
      # CUDA wheels and cudaPackages are unfree
      pkgs = import nixpkgs { inherit system; config.allowUnfree = true; };

      cognixCli = import ./nix/cli.nix { inherit pkgs; src = self; };

      mkLib = { revision ? null }: import ./nix/lib {
        inherit pkgs dream2nix revision cognixCli;
        cognixSrc = self;
      };
      cognixLib = mkLib { revision = self.rev or null; };

      examples = {
        hello = ./examples/hello;
        torch-demo = ./examples/torch-demo;
        ebsynth-cpu = ./examples/ebsynth-cpu;
      };
      images = builtins.mapAttrs
        (name: dir: cognixLib.mkCognixImage { modelDir = dir; inherit name; relPath = "examples/${name}"; })
        examples;

      app = program: { type = "app"; inherit program; };

      # `nix develop .#NAME`: the model's Python env (its python, the locked wheels, cognix's runtime) and
      # the cognix CLI on PATH, with the model's cognix.rootPackages. The CLI comes as a wrapper script: a
      # Python application propagates nixpkgs' python3 and its packages, which would come before the
      # model's interpreter on PATH and PYTHONPATH.
      cliCommand = pkgs.writeShellScriptBin "cognix" ''
        exec ${cognixCli}/bin/cognix "$@"
      '';
      devShell = name: img: pkgs.mkShell {
        name = "cognix-${name}";
        packages = [ img.pythonEnv cliCommand ] ++ img.config.cognix.rootPackages;
      };
      cliShell = pkgs.mkShell { name = "cognix"; packages = [ cliCommand ]; };
      # one per model; `default`: the only model's, else the CLI alone (the original cognix's default)
      devShells = built: builtins.mapAttrs devShell built // {
        default = if builtins.length (builtins.attrNames built) == 1
          then devShell (builtins.head (builtins.attrNames built)) (builtins.head (builtins.attrValues built))
          else cliShell;
      };

      # outputs for a flake whose models are { name = directory (relative to the flake: name); }
      cognixFlake = { self, ... }: models: cognixFlake' { inherit self; relPath = name: name; } models;
      cognixFlake' = { self, relPath }: models:
        let
          lib' = mkLib { revision = self.rev or null; };
          built = builtins.mapAttrs (name: dir: lib'.mkCognixImage { modelDir = dir; inherit name; relPath = relPath name; }) models;
          single = builtins.length (builtins.attrNames models) == 1;
        in
        {
          packages.${system} = built // pkgs.lib.optionalAttrs single { default = builtins.head (builtins.attrValues built); };
          apps.${system} = { default = app "${cognixCli}/bin/cognix"; }
            // pkgs.lib.mapAttrs' (name: img: pkgs.lib.nameValuePair "${name}-push-weights" (app "${img.push-weights}/bin/push-weights-${name}")) built;
          devShells.${system} = devShells built;
        };
    in
    {
      lib = {
        inherit (cognixLib) mkCognixImage debianPackages;
        inherit cognixFlake;
        # a flake for a repository holding one model at its root (what `cognix init` writes)
        singleModelFlake = { self, name, dir }: cognixFlake' { inherit self; relPath = _: "."; } { ${name} = dir; };
        # original cognix's signature; prefer singleModelFlake with dir = ./. (a path, not a string)
        singleCognixFlake = inputs: name: cognixFlake' { inherit (inputs) self; relPath = _: "."; } { ${name} = "${inputs.self}"; };
      };

      packages.${system} = images // {
        cognix = cognixCli;
        default = cognixCli;
      };

      apps.${system} = {
        default = app "${cognixCli}/bin/cognix";
        cognix = app "${cognixCli}/bin/cognix";
      } // pkgs.lib.mapAttrs' (name: img: pkgs.lib.nameValuePair "${name}-push-weights" (app "${img.push-weights}/bin/push-weights-${name}")) images;

      # the examples' shells, and the CLI alone as `default`
      devShells.${system} = builtins.mapAttrs devShell images // { default = cliShell; };

      templates.default = {
        path = ./nix/template;
        description = "A single Cog model built by cognix";
      };

      checks.${system} = {
        cognix = cognixCli;
        # nix/lib's own logic, the same expressions tests/nix evaluates
        nix-unit = pkgs.runCommand "cognix-nix-unit" { nativeBuildInputs = [ pkgs.nix ]; } ''
          export NIX_STATE_DIR=$TMPDIR/state NIX_LOG_DIR=$TMPDIR/log NIX_CONF_DIR=$TMPDIR HOME=$TMPDIR
          cd ${self}
          nix-instantiate --eval --strict --json --readonly-mode ./nix/tests > $TMPDIR/result.json
          # fail the check when a case failed
          grep -q '"failed":\[\]' $TMPDIR/result.json || { cat $TMPDIR/result.json; exit 1; }
          cp $TMPDIR/result.json $out
        '';
      };
    };
}
