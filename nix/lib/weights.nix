# Model weights from lock.json's `cognix.weights`, mirroring the native engine
# (cognix/weights/layers.py, cognix/weights/manifest.py):
# - build mode: every file is a fixed-output store path (fetchurl for URLs, builtins.path with a
#   flat hash for model-dir files), copied into one store path per layer group: a file >= 64 MiB
#   alone, an entry's smaller files together. Each group is a top-level image content, so
#   streamLayeredImage gives it its own layer and a changed file rebuilds only its group.
# - runtime mode: /src/.cog/weights.json, written from the image spec (cognix image-spec's
#   weights.manifest_text = manifest_bytes(manifest_for(lock))); `manifest` here only refuses,
#   at evaluation, runtime-mode files not pushed yet.
# The nixpkgs functions are arguments so the tests can record what is passed to them.
{
  fetchurl,
  runCommand,
}:
let
  LARGE_FILE = 64 * 1024 * 1024; # = cognix.weights.layers.LARGE_FILE
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  hasSuffix = p: s:
    let n = builtins.stringLength s; m = builtins.stringLength p; in
    n >= m && builtins.substring (n - m) m s == p;
  isUrl = s: builtins.match ".*://.*" s != null; # the Python side's `"://" in f.source`
  # posixpath.join(dest, path)
  join = dest: path: if hasPrefix "/" path then path else if hasSuffix "/" dest then dest + path else "${dest}/${path}";
  byPath = builtins.sort (a: b: a.path < b.path);
  quote = s: "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] s}'";
  # store path names allow [A-Za-z0-9+._?=-] and must not start with a dot
  storeName = s: "w-" + builtins.concatStringsSep "-"
    (builtins.filter builtins.isString (builtins.split "[^A-Za-z0-9+._?=-]+" s));

  # percent-encoding of a GCS object name for the JSON API's media URL (keeps RFC 3986 unreserved)
  pctChars = [ "%" "/" " " "!" "\"" "#" "$" "&" "'" "(" ")" "*" "+" "," ":" ";" "<" "=" ">" "?" "@" "[" "\\" "]" "^" "`" "{" "|" "}" ];
  pctCodes = [ "%25" "%2F" "%20" "%21" "%22" "%23" "%24" "%26" "%27" "%28" "%29" "%2A" "%2B" "%2C" "%3A" "%3B" "%3C" "%3D" "%3E" "%3F" "%40" "%5B" "%5C" "%5D" "%5E" "%60" "%7B" "%7C" "%7D" ];
  # gs://bucket/object -> the public media URL (works for objects readable by allUsers; the build
  # sandbox has no GCS credentials)
  gcsMediaUrl = uri:
    let m = builtins.match "gs://([^/]+)/(.+)" uri; in
    if m == null then throw "cognix weights: `${uri}` is not a gs://bucket/object URI"
    else "https://storage.googleapis.com/download/storage/v1/b/${builtins.elemAt m 0}/o/${builtins.replaceStrings pctChars pctCodes (builtins.elemAt m 1)}?alt=media";
  httpUrl = s: hasPrefix "https://" s || hasPrefix "http://" s;

  # the URL a weights file is fetched from at build time: its recorded URL (https sources and hub
  # files, whose source is the resolved URL), else its pushed location, else its gs:// source
  urlOf = f:
    let loc = f.location or null; in
    if httpUrl f.source then f.source
    else if loc != null && httpUrl loc then loc
    else if loc != null && hasPrefix "gs://" loc then gcsMediaUrl loc
    else if hasPrefix "gs://" f.source then gcsMediaUrl f.source
    else throw "cognix weights: cannot fetch `${f.source}` in a Nix build (supported: https URLs, gs:// URIs, model-dir paths)";

  # one fixed-output store path with the file's bytes; the hash is the lock's (flat sha256), so a
  # changed file fails the build instead of slipping into the image
  fileSource = modelDir: f:
    let name = storeName (baseNameOf f.path); in
    if isUrl f.source then fetchurl { url = urlOf f; inherit (f) sha256; inherit name; }
    else builtins.path { path = modelDir + "/${f.source}"; inherit name; recursive = false; inherit (f) sha256; };

  # = cognix.weights.layers.layer_groups: [ { name; members = [ { imagePath; file; } ]; } ] in lock order
  layerGroups = weights:
    builtins.concatLists (map
      (ws:
        let
          files = byPath ws.files;
          member = f: { imagePath = join ws.dest f.path; file = f; };
          large = builtins.filter (f: f.size >= LARGE_FILE) files;
          small = builtins.filter (f: f.size < LARGE_FILE) files;
        in
        map (f: { name = "weights${join ws.dest f.path}"; members = [ (member f) ]; }) large
        ++ (if small == [ ] then [ ] else [ { name = "weights${ws.dest}"; members = map member small; } ]))
      (builtins.filter (ws: ws.mode == "build") weights));

  # one store path per group holding its files at their image paths ($out/src/weights/x.bin); the
  # copies drop the references to the fetched paths, so only the group paths reach the image
  layers = modelDir: weights:
    map
      (g: runCommand (storeName g.name) { } (builtins.concatStringsSep "\n" (map
        (m: ''
          mkdir -p "$out"${quote (dirOf m.imagePath)}
          cp ${fileSource modelDir m.file} "$out"${quote m.imagePath}
        '')
        g.members)))
      (layerGroups weights);

  # = cognix.weights.layers.source_exclusions: model-dir files weights entries read
  sourceExclusions = weights:
    builtins.sort builtins.lessThan (builtins.attrNames (builtins.listToAttrs (map (s: { name = s; value = null; })
      (builtins.filter (s: !isUrl s) (builtins.concatMap (ws: map (f: f.source) ws.files) weights)))));

  # the same files as .gitignore patterns for nix-gitignore: anchored at the model dir, glob
  # characters escaped
  sourceIgnores = weights:
    map (s: "/" + builtins.replaceStrings [ "\\" "*" "?" "[" ] [ "\\\\" "\\*" "\\?" "\\[" ] s) (sourceExclusions weights);

  # = cognix.weights.manifest.manifest_for (its data; the file's bytes come from the spec): throws
  # while runtime-mode files have no location; null without runtime-mode weights
  manifest = { weights, relPath ? "." }:
    let
      runtime = builtins.concatMap (ws: map (f: { inherit ws f; }) ws.files) (builtins.filter (ws: ws.mode == "runtime") weights);
      urlFor = f: if (f.location or null) != null then f.location else if hasPrefix "https://" f.source then f.source else null;
      missing = builtins.sort builtins.lessThan (map (x: x.f.source) (builtins.filter (x: urlFor x.f == null) runtime));
      files = map (x: { dest = join x.ws.dest x.f.path; inherit (x.f) sha256 size; url = urlFor x.f; }) runtime;
    in
    if missing != [ ] then
      throw ("${relPath}: runtime-mode weights not pushed yet: ${builtins.concatStringsSep ", " missing}; "
        + "run `cognix weights push ${relPath}` (it records their locations in lock.json)")
    else if files == [ ] then null
    else { version = 1; files = builtins.sort (a: b: a.dest < b.dest) files; };

in
{
  inherit LARGE_FILE layerGroups layers sourceExclusions sourceIgnores manifest urlOf gcsMediaUrl fileSource;
}
