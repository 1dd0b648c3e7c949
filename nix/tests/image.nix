# Image assembly: what is passed to nixpkgs' streamLayeredImage and to the build steps.
let
  t = import ./lib.nix;
  runCommand = name: env: script: { inherit name env script; outPath = "/nix/store/00000000000000000000000000000000-${name}"; };
  img = import ../lib/image.nix {
    streamLayeredImage = t.recorder "streamLayeredImage";
    inherit runCommand;
    jq = "/nix/store/jq";
    nix = "/nix/store/nix";
    runtimeShell = "/nix/store/bash/bin/bash";
  } {
    name = "hello";
    pythonEnv = "/nix/store/env";
    source = "/nix/store/src";
    contents = [ "/nix/store/env" "/nix/store/tini" ];
    config = { Cmd = [ "python" "-m" "cognix.runtime" ]; };
    maxLayers = 100;
    schemaEnv = { COG_PREDICT_TYPE_STUB = "predict.py:Predictor"; };
  };
  base = img.env.passthru.base;
  # the same image at SOURCE_DATE_EPOCH=1800000000 (nix/lib/default.nix passes the checked epoch)
  later = (import ../lib/image.nix {
    streamLayeredImage = t.recorder "streamLayeredImage"; inherit runCommand; jq = ""; nix = ""; runtimeShell = "";
  } { name = "x"; pythonEnv = ""; source = ""; contents = [ ]; config = { }; maxLayers = 2; epoch = 1800000000; }).env.passthru.base;
  conf = img.env.passthru.conf;
  schema = img.env.passthru.schema;
in
[
  (t.case "streamLayeredImage gets the name" "hello" base.args.name)
  (t.case "streamLayeredImage gets the config verbatim" { Cmd = [ "python" "-m" "cognix.runtime" ]; } base.args.config)
  (t.case "streamLayeredImage gets the contents" [ "/nix/store/env" "/nix/store/tini" ] base.args.contents)
  (t.case "nixpkgs makes one layer per path; cognix coalesces" 100000 base.args.maxLayers)
  (t.case "default tag (nixpkgs: hash of the conf)" null base.args.tag)
  (t.case "source copied to /src in the last layer" true (t.hasInfix "cp -r --no-preserve=mode /nix/store/src/. src/" base.args.extraCommands))
  (t.case "a non-root user exists" true (t.contains "'cog:x:1000:1000:cog:/home/cog:/bin/sh'" base.args.extraCommands))
  (t.case "world-writable dirs like the native engine" true (t.contains "chmod 1777 tmp var/tmp home/cog var/cache/cognix" base.args.extraCommands))
  (t.case "schema file in /src/.cog" true (t.contains "cp /nix/store/00000000000000000000000000000000-hello-openapi.json/openapi_schema.json src/.cog/openapi_schema.json" base.args.extraCommands))
  (t.case "schema: pretty and compact, keys sorted" true (t.contains "jq -S --indent 2 ." schema.script && t.contains "jq -S -c ." schema.script))
  (t.case "schema label from the compact file" true (t.contains "--rawfile schema /nix/store/00000000000000000000000000000000-hello-openapi.json/compact.json" conf.script))
  (t.case "conf needs narSizes: structured attrs" true conf.env.__structuredAttrs)
  (t.case "conf reads the closure graph of the nixpkgs image" [ base ] conf.env.exportReferencesGraph.graph)
  (t.case "store layers = maxLayers - 1 (source layer last)" true (t.hasInfix "maxLayers = 99;" conf.script))
  (t.case "coalesce runs nix/lib/layers.nix" true (t.hasInfix "l.coalesce" conf.script))
  (t.case "schema label merged" true (t.hasInfix "run.cog.openapi_schema" conf.script))
  (t.case "schema from the env's python in /src" true (t.hasInfix "cd /nix/store/src.*/nix/store/env/bin/python -m cognix.runtime.schema" schema.script))
  (t.case "schema step sees the type stubs" "predict.py:Predictor" schema.env.COG_PREDICT_TYPE_STUB)
  (t.case "schema step gets jq" [ "/nix/store/jq" ] schema.env.nativeBuildInputs)
  (t.case "result is stream-<name>" "stream-hello" img.name)
  (t.case "result offers load" true (t.hasInfix "load\\)" img.script))
  (t.case "result offers push via skopeo copy from a docker-archive (skopeo from PATH without nixpkgs')" true
    (t.contains "skopeo --insecure-policy copy \"\\$@\" \"docker-archive:\\$archive\" \"docker://\\$ref\"" img.script))
  (t.case "default time: created 1970-01-01T00:00:01Z (also the store layers' mtime)" "1970-01-01T00:00:01Z" base.args.created)
  (t.case "default time: the source layer's tar mtime is 1 too" "SOURCE_DATE_EPOCH=1" base.args.fakeRootCommands)
  (t.case "an epoch sets created" "2027-01-15T08:00:00Z" later.args.created)
  (t.case "an epoch sets the source layer's tar mtime" "SOURCE_DATE_EPOCH=1800000000" later.args.fakeRootCommands)
  (t.case "no weights manifest: none copied" false (t.contains "weights.json" base.args.extraCommands))
  (t.case "maxLayers 1 fails" true (t.fails (import ../lib/image.nix {
    streamLayeredImage = t.recorder "s"; inherit runCommand; jq = ""; nix = ""; runtimeShell = "";
  } { name = "x"; pythonEnv = ""; source = ""; contents = [ ]; config = { }; maxLayers = 1; }).name))
]
