# Assemble the image from cognix's image spec (cognix/image/spec.py, printed by `cognix image-spec`):
# the spec gives the system files and the Env of the schema step (before the image), then, from
# nixpkgs' one-layer-per-store-path conf.json and the closure's narSizes, the store layers and the
# image config (Env, Labels with the OpenAPI schema, Entrypoint, User...), as the native engine
# computes them. It wraps nixpkgs' stream script in `./result [dump|load|push REF]` (push: skopeo
# copy from a temp docker-archive). The nixpkgs functions are arguments so the tests can record
# what is passed to them.
{
  streamLayeredImage,
  runCommand,
  jq,
  runtimeShell,
  # nixpkgs' skopeo for `./result push REF`; null = skopeo from PATH
  skopeo ? null,
  # the cognix CLI package (the flake's); null = `cognix` from PATH
  cognixCli ? null,
}:
{
  name,
  tag ? null,
  pythonEnv,
  # the model directory, filtered (becomes /src, in the last layer)
  source,
  # store paths symlinked into the image root (/bin, /etc/ssl...)
  contents,
  # `cognix image-spec` arguments: the lock and the image's facts (title, user, environment, tini,
  # revision); nix/lib/default.nix makes them from the module config
  specArgs,
  maxLayers,
  # the image's time in whole seconds (nix/lib/source-date.nix epoch): config `created` and every
  # file's mtime, as the native engine's SOURCE_DATE_EPOCH; 1 = 1970-01-01T00:00:01Z
  epoch ? 1,
}:
let
  cli = if cognixCli == null then "cognix" else "${cognixCli}/bin/cognix";
  quote = a: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString a) + "'";
  specCommand = "${cli} image-spec ${builtins.concatStringsSep " " (map quote (specArgs ++ [ "--max-layers" maxLayers "--epoch" epoch ]))}";

  # the spec before the image exists (no layers, no schema): system files and Env
  spec = runCommand "${name}-image-spec.json" { } "${specCommand} > $out";

  # the OpenAPI schema, made by the built env in /src, pretty and key-sorted for /src/.cog (the
  # label comes from the spec); the schema step sees the server's Env minus the image's PATH and
  # driver path (the build sandbox has its own)
  schema = runCommand "${name}-openapi.json" { nativeBuildInputs = [ jq ]; } ''
    while IFS= read -r kv; do export "$kv"; done < <(jq -r '.config.Env[] | select((startswith("PATH=") or startswith("LD_LIBRARY_PATH=")) | not)' ${spec})
    cd ${source}
    HOME=$TMPDIR ${pythonEnv}/bin/python -m cognix.runtime.schema > $TMPDIR/schema.json
    mkdir -p $out
    jq -S --indent 2 . $TMPDIR/schema.json > $out/openapi_schema.json
  '';

  base = streamLayeredImage {
    inherit name tag contents;
    # the image config comes from the spec (conf below); tini, which it names, is in `contents`
    config = { };
    # at flake.lock's nixpkgs `created` is also every store layer file's mtime (later nixpkgs: `mtime`
    # defaults to it)
    created = (import ./source-date.nix).rfc3339 epoch;
    # the source/customisation layer is tarred with --mtime @$SOURCE_DATE_EPOCH right after these
    # commands, in their shell; stdenv would leave it at 315532800 (1980), not the image's time
    fakeRootCommands = ''
      SOURCE_DATE_EPOCH=${toString epoch}
      ${jq}/bin/jq -r '.system.dirs[] | select(.owner != 0) | "\(.owner) \(.path)"' ${spec} | while read -r o p; do chown "$o:$o" "$p"; done
    '';
    # one layer per store path (nixpkgs' popularity order); the spec merges them (conf below)
    maxLayers = 100000;
    # the spec's system files and directories (passwd, group, nsswitch.conf, tmp...) with their
    # modes; their owners are set under fakeroot (fakeRootCommands)
    extraCommands = ''
      mkdir -p etc src/.cog etc/ssl/certs
      cp -r --no-preserve=mode ${source}/. src/
      cp ${schema}/openapi_schema.json src/.cog/openapi_schema.json
      # the runtime weights manifest, when the model has runtime-mode weights
      if [ "$(${jq}/bin/jq '.weights.manifest_text != null' ${spec})" = true ]; then
        ${jq}/bin/jq -j .weights.manifest_text ${spec} > src/.cog/weights.json
      fi
      for i in $(${jq}/bin/jq -r '.system.files | keys[]' ${spec}); do
        p=$(${jq}/bin/jq -r ".system.files[$i].path" ${spec})
        mkdir -p "$(dirname "$p")"
        ${jq}/bin/jq -j ".system.files[$i].text" ${spec} > "$p"
        chmod "$(${jq}/bin/jq -r ".system.files[$i].mode" ${spec})" "$p"
      done
      ${jq}/bin/jq -r '.system.dirs[] | .mode + " " + .path' ${spec} | while read -r m p; do mkdir -p "$p"; chmod "$m" "$p"; done
      [ -e etc/ssl/certs/ca-certificates.crt ] || ln -s ca-bundle.crt etc/ssl/certs/ca-certificates.crt
    '';
  };

  # nixpkgs' conf.json with the spec's store layers and image config
  conf = runCommand "${name}-cognix-conf.json" {
    __structuredAttrs = true;
    exportReferencesGraph.graph = [ base ];
    nativeBuildInputs = [ jq ];
  } ''
    . .attrs.sh
    baseConf=$(grep -ao '/[^ "]*-conf.json' ${base} | head -n1)
    ${specCommand} --conf "$baseConf" --graph .attrs.json --schema ${schema}/openapi_schema.json > spec.json
    jq --slurpfile spec spec.json '.store_layers = [$spec[0].layers[].paths] | .config = $spec[0].config' "$baseConf" > "''${outputs[out]}"
  '';
in
assert (maxLayers >= 2) || throw "cognix.maxLayers must be at least 2 (store layers + the source layer)";
runCommand "stream-${name}" {
  passthru = { inherit base conf schema spec specArgs; imageName = base.imageName or name; imageTag = base.imageTag or tag; isExe = true; };
} ''
  script=$(grep -ao '/[^ "]*-stream' ${base} | head -n1)
  cat > $out <<EOF
  #!${runtimeShell}
  # ./result        -> docker-archive tarball on stdout
  # ./result load   -> docker load (DOCKER=podman for podman)
  # ./result push REF [skopeo copy flags, e.g. --dest-tls-verify=false] -> skopeo copy to docker://REF
  #   (skopeo's docker-archive transport re-opens and seeks the archive, so it is streamed to a temp
  #   file first rather than read from a pipe)
  case "\''${1:-dump}" in
    dump) exec $script ${conf} ;;
    load) $script ${conf} | "\''${DOCKER:-docker}" image load ;;
    push)
      [ \$# -ge 2 ] || { echo "usage: \$0 push REF [skopeo copy flags]" >&2; exit 2; }
      ref=\$2; shift 2
      archive=\$(mktemp "\''${TMPDIR:-/tmp}/cognix-push.XXXXXX") || exit 1
      trap 'rm -f "\$archive"' EXIT
      $script ${conf} > "\$archive" || exit 1
      ${if skopeo == null then "skopeo" else "${skopeo}/bin/skopeo"} --insecure-policy copy "\$@" "docker-archive:\$archive" "docker://\$ref" ;;
    *) echo "usage: \$0 [dump|load|push REF]" >&2; exit 2 ;;
  esac
  EOF
  chmod +x $out
''
