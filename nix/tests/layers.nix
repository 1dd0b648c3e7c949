# cognix's layer policy: one layer per path, merge the adjacent pair with the smallest combined size.
let
  t = import ./lib.nix;
  l = import ../lib/layers.nix;
  p = path: size: { inherit path size; };
  paths = [ (p "glibc" 30) (p "torch" 900) (p "a" 1) (p "b" 2) (p "c" 50) (p "d" 3) ];
in
[
  (t.case "under the limit: one layer per path, order kept" [ [ "glibc" ] [ "torch" ] [ "a" ] [ "b" ] [ "c" ] [ "d" ] ]
    (l.coalesce { inherit paths; maxLayers = 10; }))
  (t.case "exactly at the limit: unchanged" 6 (builtins.length (l.coalesce { inherit paths; maxLayers = 6; })))
  (t.case "one over: smallest adjacent pair (a+b) merged" [ [ "glibc" ] [ "torch" ] [ "a" "b" ] [ "c" ] [ "d" ] ]
    (l.coalesce { inherit paths; maxLayers = 5; }))
  (t.case "merges repeat on combined sizes" [ [ "glibc" ] [ "torch" ] [ "a" "b" "c" "d" ] ]
    (l.coalesce { inherit paths; maxLayers = 3; }))
  (t.case "maxLayers 1: one layer holds everything" [ [ "glibc" "torch" "a" "b" "c" "d" ] ]
    (l.coalesce { inherit paths; maxLayers = 1; }))
  (t.case "ties: the first pair wins" [ [ "x" "y" ] [ "z" ] ]
    (l.coalesce { paths = [ (p "x" 1) (p "y" 1) (p "z" 1) ]; maxLayers = 2; }))
  (t.case "no paths, no layers" [ ] (l.coalesce { paths = [ ]; maxLayers = 5; }))
  (t.case "maxLayers 0 fails" true (t.fails (l.coalesce { inherit paths; maxLayers = 0; })))
  (t.case "fromGraph keeps nixpkgs' order and reads narSize" [ (p "/s/b" 7) (p "/s/a" 5) (p "/s/c" 0) ]
    (l.fromGraph {
      storeLayers = [ [ "/s/b" ] [ "/s/a" "/s/c" ] ];
      graph = [ { path = "/s/a"; narSize = 5; references = [ ]; } { path = "/s/b"; narSize = 7; references = [ ]; } ];
    }))
]
