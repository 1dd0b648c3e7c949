# Image assembly: what is passed to nixpkgs' streamLayeredImage and to the build steps.
let
  t = import ./lib.nix;
  runCommand = name: env: script: { inherit name env script; outPath = "/nix/store/00000000000000000000000000000000-${name}"; };
  img = import ../lib/image.nix {
    streamLayeredImage = t.recorder "streamLayeredImage";
    inherit runCommand;
    jq = "/nix/store/jq";
    runtimeShell = "/nix/store/bash/bin/bash";
    cognixCli = "/nix/store/cognix";
  } {
    name = "hello";
    pythonEnv = "/nix/store/env";
    source = "/nix/store/src";
    contents = [ "/nix/store/env" "/nix/store/tini" ];
    specArgs = [ "/nix/store/lock.json" "--title" "hello" "--environment" "{\"A\":\"it's\"}" ];
    maxLayers = 100;
  };
  base = img.env.passthru.base;
  # the same image at SOURCE_DATE_EPOCH=1800000000 (nix/lib/default.nix passes the checked epoch)
  later = (import ../lib/image.nix {
    streamLayeredImage = t.recorder "streamLayeredImage"; inherit runCommand; jq = ""; runtimeShell = "";
  } { name = "x"; pythonEnv = ""; source = ""; contents = [ ]; specArgs = [ ]; maxLayers = 2; epoch = 1800000000; }).env.passthru;
  conf = img.env.passthru.conf;
  schema = img.env.passthru.schema;
  spec = img.env.passthru.spec;
  command = "/nix/store/cognix/bin/cognix image-spec '/nix/store/lock.json' '--title' 'hello' '--environment' '{\"A\":\"it'\\''s\"}' '--max-layers' '100' '--epoch' '1'";
in
[
  (t.case "streamLayeredImage gets the name" "hello" base.args.name)
  (t.case "streamLayeredImage: no config of its own (the conf's comes from the spec)" { } base.args.config)
  (t.case "streamLayeredImage gets the contents" [ "/nix/store/env" "/nix/store/tini" ] base.args.contents)
  (t.case "nixpkgs makes one layer per path; the spec merges them" 100000 base.args.maxLayers)
  (t.case "default tag (nixpkgs: hash of the conf)" null base.args.tag)
  (t.case "the spec: cognix image-spec with the args, quoted, max layers and epoch" "${command} > $out" spec.script)
  (t.case "source copied to /src in the last layer" true (t.hasInfix "cp -r --no-preserve=mode /nix/store/src/. src/" base.args.extraCommands))
  (t.case "system files: the spec's, with their modes" true (t.contains "/nix/store/jq/bin/jq -j \".system.files[$i].text\" /nix/store/00000000000000000000000000000000-hello-image-spec.json > \"$p\"" base.args.extraCommands))
  (t.case "system dirs: the spec's, with their modes" true (t.contains "'.system.dirs[] | .mode + \" \" + .path' /nix/store/00000000000000000000000000000000-hello-image-spec.json | while read -r m p; do mkdir -p \"$p\"; chmod \"$m\" \"$p\"; done" base.args.extraCommands))
  (t.case "no printf'ed passwd any more" false (t.contains "printf" base.args.extraCommands))
  (t.case "system dirs' owners under fakeroot" true (t.contains "select(.owner != 0) | \"\\(.owner) \\(.path)\"' /nix/store/00000000000000000000000000000000-hello-image-spec.json | while read -r o p; do chown \"$o:$o\" \"$p\"; done" base.args.fakeRootCommands))
  (t.case "schema file in /src/.cog" true (t.contains "cp /nix/store/00000000000000000000000000000000-hello-openapi.json/openapi_schema.json src/.cog/openapi_schema.json" base.args.extraCommands))
  (t.case "schema: pretty, keys sorted" true (t.contains "jq -S --indent 2 ." schema.script))
  (t.case "schema step sees the spec's Env but PATH and the driver path" true (t.contains "export \"$kv\"; done < <(jq -r '.config.Env[] | select((startswith(\"PATH=\") or startswith(\"LD_LIBRARY_PATH=\")) | not)' /nix/store/00000000000000000000000000000000-hello-image-spec.json)" schema.script))
  (t.case "conf needs narSizes: structured attrs" true conf.env.__structuredAttrs)
  (t.case "conf reads the closure graph of the nixpkgs image" [ base ] conf.env.exportReferencesGraph.graph)
  (t.case "conf: the spec from nixpkgs' conf, the graph and the schema" true (t.contains "${command} --conf \"$baseConf\" --graph .attrs.json --schema /nix/store/00000000000000000000000000000000-hello-openapi.json/openapi_schema.json > spec.json" conf.script))
  (t.case "conf: store layers and config from the spec" true (t.contains ".store_layers = [$spec[0].layers[].paths] | .config = $spec[0].config" conf.script))
  (t.case "schema from the env's python in /src" true (t.hasInfix "cd /nix/store/src.*/nix/store/env/bin/python -m cognix.runtime.schema" schema.script))
  (t.case "schema step gets jq" [ "/nix/store/jq" ] schema.env.nativeBuildInputs)
  (t.case "result is stream-<name>" "stream-hello" img.name)
  (t.case "result offers load" true (t.hasInfix "load\\)" img.script))
  (t.case "result offers push via skopeo copy from a docker-archive (skopeo from PATH without nixpkgs')" true
    (t.contains "skopeo --insecure-policy copy \"\\$@\" \"docker-archive:\\$archive\" \"docker://\\$ref\"" img.script))
  (t.case "default time: created 1970-01-01T00:00:01Z (also the store layers' mtime)" "1970-01-01T00:00:01Z" base.args.created)
  (t.case "default time: the source layer's tar mtime is 1 too" true (t.hasInfix "^SOURCE_DATE_EPOCH=1 .*" base.args.fakeRootCommands))
  (t.case "an epoch sets created" "2027-01-15T08:00:00Z" later.base.args.created)
  (t.case "an epoch sets the source layer's tar mtime" true (t.hasInfix "^SOURCE_DATE_EPOCH=1800000000 .*" later.base.args.fakeRootCommands))
  (t.case "an epoch goes to the spec (created, its label)" true (t.contains "'--epoch' '1800000000'" later.spec.script))
  (t.case "cognix from PATH without the CLI package" true (t.hasInfix "^cognix image-spec .*" later.spec.script))
  (t.case "the weights manifest only when the spec has one" true (t.contains "if [ \"$(/nix/store/jq/bin/jq '.weights.manifest_text != null' /nix/store/00000000000000000000000000000000-hello-image-spec.json)\" = true ]; then" base.args.extraCommands))
  (t.case "maxLayers 1 fails" true (t.fails (import ../lib/image.nix {
    streamLayeredImage = t.recorder "s"; inherit runCommand; jq = ""; runtimeShell = "";
  } { name = "x"; pythonEnv = ""; source = ""; contents = [ ]; specArgs = [ ]; maxLayers = 1; }).name))
]
