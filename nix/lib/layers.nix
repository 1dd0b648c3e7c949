# cognix's layer policy: one layer per store path in popularity order; while there are more than
# `maxLayers`, merge the adjacent pair with the smallest combined size (the first such pair on ties).
# Big paths (torch, CUDA wheels) stay alone, small ones are glued to their neighbours.
# Pure (builtins only): evaluated by the tests and, at build time, by nix-instantiate inside the
# image derivation (nix/lib/image.nix) on the closure's exportReferencesGraph.
{
  # paths: [ { path = "/nix/store/..."; size = narSize; } ] most popular first
  # maxLayers: how many store layers are allowed (>= 1)
  coalesce = { paths, maxLayers }:
    let
      sum = builtins.foldl' (a: b: a + b) 0;
      start = map (p: { paths = [ p.path ]; size = p.size; }) paths;
      # index of the first adjacent pair with the smallest combined size
      smallest = layers:
        let
          n = builtins.length layers;
          pairSize = i: (builtins.elemAt layers i).size + (builtins.elemAt layers (i + 1)).size;
          pick = best: i:
            if i >= n - 1 then best
            else pick (if pairSize i < pairSize best then i else best) (i + 1);
        in
        pick 0 1;
      mergeAt = layers: i:
        let
          a = builtins.elemAt layers i;
          b = builtins.elemAt layers (i + 1);
          n = builtins.length layers;
        in
        builtins.genList
          (j:
            if j < i then builtins.elemAt layers j
            else if j == i then { paths = a.paths ++ b.paths; size = a.size + b.size; }
            else builtins.elemAt layers (j + 1))
          (n - 1);
      go = layers:
        if builtins.length layers <= maxLayers then layers else go (mergeAt layers (smallest layers));
    in
    assert maxLayers >= 1 || throw "cognix.maxLayers must leave at least one store layer";
    map (l: l.paths) (go start);

  # Popularity order from nixpkgs' conf.json store_layers (already sorted by nixpkgs'
  # referencesByPopularity), sizes from an exportReferencesGraph list.
  fromGraph = { storeLayers, graph }:
    let
      sizes = builtins.listToAttrs (map (e: { name = e.path; value = e.narSize; }) graph);
    in
    map (p: { path = p; size = sizes.${p} or 0; }) (builtins.concatLists storeLayers);
}
