# Weights (nix/lib/weights.nix): layer groups, fixed-output sources, source exclusions, the runtime
# manifest, and their wiring through mkCognixImage. fetchurl/runCommand are recording stubs;
# builtins.path is real (read-only mode computes the store path and checks the flat hash).
let
  t = import ./lib.nix;
  stubs = import ./stub-pkgs.nix;
  runCommand = name: env: script: { inherit name env script; outPath = "/nix/store/00000000000000000000000000000000-${name}"; };
  w = import ../lib/weights.nix { fetchurl = t.recorder "fetchurl"; inherit runCommand; };
  modelDir = ./fixtures/weights-model;
  lock = (builtins.fromJSON (builtins.readFile ./fixtures/weights-model/lock.json)).cognix;
  ws = lock.weights;
  groups = w.layerGroups ws;
  groupShape = map (g: { inherit (g) name; paths = map (m: m.imagePath) g.members; }) groups;
  layers = w.layers modelDir ws;
  layer = i: builtins.elemAt layers i;
  file = i: j: builtins.elemAt (builtins.elemAt ws i).files j;
  mb = 1024 * 1024;
  f = path: size: source: { inherit path size source; sha256 = "0000000000000000000000000000000000000000000000000000000000000000"; location = null; };
  m = w.manifest { weights = ws; relPath = "models/w"; };
  unpushed = [ { src = "x"; dest = "/src/x"; mode = "runtime"; files = [ (f "b.bin" 1 "b.bin") (f "a.bin" 1 "gs://b/a.bin") ]; } ];
  cognixLib = import ../lib { inherit (stubs) pkgs dream2nix; cognixSrc = "/cognix-src"; };
  img = cognixLib.mkCognixImage { inherit modelDir; name = "weights-model"; relPath = "models/w"; };
  base = img.env.passthru.base.args;
in
[
  (t.case "LARGE_FILE is 64 MiB, like cognix.weights.layers" (64 * mb) w.LARGE_FILE)
  (t.case "groups: build mode only; small files of an entry together, sorted; a large file alone, before its entry's small ones" [
    { name = "weights/src/weights"; paths = [ "/src/weights/sub/config.json" "/src/weights/tok.json" ]; }
    { name = "weights/src/models/model.safetensors"; paths = [ "/src/models/model.safetensors" ]; }
    { name = "weights/src/models"; paths = [ "/src/models/small.bin" ]; }
  ] groupShape)
  (t.case "groups: exactly 64 MiB is large, one byte less is small" [ [ "/d/a" ] [ "/d/b" ] ]
    (map (g: map (x: x.imagePath) g.members) (w.layerGroups [ { src = "s"; dest = "/d"; mode = "build"; files = [ (f "b" (64 * mb - 1) "b") (f "a" (64 * mb) "a") ]; } ])))
  (t.case "groups: dest with a trailing slash joins like posixpath.join" [ "/d/x" ]
    (map (x: x.imagePath) (builtins.head (w.layerGroups [ { src = "s"; dest = "/d/"; mode = "build"; files = [ (f "x" 1 "x") ]; } ])).members))
  (t.case "one store path per group" 3 (builtins.length layers))
  (t.case "layer names are store-safe" [ "w-weights-src-weights" "w-weights-src-models-model.safetensors" "w-weights-src-models" ] (map (l: l.name) layers))
  (t.case "local file: builtins.path with the lock's flat sha256 (real store path)" true
    (t.hasInfix "cp /nix/store/[a-z0-9]{32}-w-config.json \"\\$out\"'/src/weights/sub/config.json'" (layer 0).script))
  (t.case "local file: placed at dest/path" true (t.contains "mkdir -p \"$out\"'/src/weights/sub'" (layer 0).script))
  (t.case "https file: fetchurl with the recorded URL and the lock's sha256" {
    url = "https://example.invalid/models/m/model.safetensors";
    sha256 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    name = "w-model.safetensors"; } (w.fileSource modelDir (file 1 0)).args)
  (t.case "large file copied from its fetch" true (t.contains "cp /nix/store/00000000000000000000000000000000-fetchurl \"$out\"'/src/models/model.safetensors'" (layer 1).script))
  (t.case "gs:// file without location: the object's media URL" "https://storage.googleapis.com/download/storage/v1/b/bkt/o/models%2Fsmall.bin?alt=media"
    (w.fileSource modelDir (file 1 1)).args.url)
  (t.case "gs:// file: its pushed gs:// location wins" "https://storage.googleapis.com/download/storage/v1/b/pushed/o/sha256%2Fx?alt=media"
    (w.urlOf { source = "gs://bkt/a"; location = "gs://pushed/sha256/x"; }))
  (t.case "https location used as is" "https://h.invalid/x" (w.urlOf { source = "gs://bkt/a"; location = "https://h.invalid/x"; }))
  (t.case "object names are percent-encoded" "https://storage.googleapis.com/download/storage/v1/b/b/o/a%20b%2Fc%3Fd%25?alt=media" (w.gcsMediaUrl "gs://b/a b/c?d%"))
  (t.case "unsupported scheme fails" true (t.fails (w.urlOf { source = "s3://b/x"; location = null; })))
  (t.case "source exclusions: model-dir files of every mode, sorted, no URLs" [ "rt.bin" "weights/sub/config.json" "weights/tok.json" ] (w.sourceExclusions ws))
  (t.case "source ignores: anchored, glob characters escaped" [ "/a\\*b\\?\\[c" "/w/x" ]
    (w.sourceIgnores [ { src = "s"; dest = "/d"; mode = "build"; files = [ (f "x" 1 "w/x") (f "y" 1 "a*b?[c") (f "z" 1 "https://h/z") ]; } ]))
  (t.case "manifest = manifest_for: runtime files sorted by dest; url = location, else the https source" {
    version = 1;
    files = [
      { dest = "/src/local/rt.bin"; sha256 = (file 3 0).sha256; size = 3; url = (file 3 0).location; }
      { dest = "/src/rt/a.bin"; sha256 = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"; size = 5; url = "https://example.invalid/a.bin"; }
      { dest = "/src/rt/z.bin"; sha256 = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"; size = 3; url = "gs://pushed/sha256/cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"; }
    ]; } m)
  (t.case "no runtime weights: no manifest" null (w.manifest { weights = builtins.filter (x: x.mode == "build") ws; }))
  (t.case "unpushed runtime files fail evaluation" true (t.fails (builtins.toJSON (w.manifest { weights = unpushed; }))))
  (t.case "image: weight layers are contents (own layers)" [ "w-weights-src-weights" "w-weights-src-models-model.safetensors" "w-weights-src-models" ]
    (map (d: d.name) (builtins.filter (d: t.hasInfix "^w-weights" (d.name or "")) base.contents)))
  (t.case "image: weights files kept out of /src" true (builtins.all (p: builtins.elem p img.source.ignores) [ "/rt.bin" "/weights/sub/config.json" "/weights/tok.json" ]))
  (t.case "image: the spec's manifest written to /src/.cog/weights.json" true (t.hasInfix "jq -j .weights.manifest_text /nix/store/[a-z0-9]{32}-[a-z-]+-image-spec.json > src/.cog/weights.json" base.extraCommands))
  (t.case "image: push uses nixpkgs' skopeo" true (t.contains "/nix/store/00000000000000000000000000000000-skopeo/bin/skopeo --insecure-policy copy" img.script))
  (t.case "image: the spec's weights in its lock" ws img.imageSpec.lock.cognix.weights)
]
