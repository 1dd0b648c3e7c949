# Debian names -> nixpkgs attributes through nix/lib/debian-packages.nix, with overrides.
let
  t = import ./lib.nix;
  pkgs = {
    ffmpeg = "ffmpeg-drv";
    libGL = "libGL-drv";
    glib = "glib-drv";
    git = "git-drv";
    curl = "curl-drv";
    wget = "wget-drv";
    xorg = { libSM = "libSM-drv"; libXext = "libXext-drv"; };
  };
  resolve = extra: import ../lib/system-packages.nix { inherit pkgs extra; };
  table = import ../lib/debian-packages.nix;
in
[
  (t.case "common names" [ "ffmpeg-drv" "libGL-drv" "glib-drv" "git-drv" "curl-drv" "wget-drv" ]
    (resolve { } [ "ffmpeg" "libgl1" "libglib2.0-0" "git" "curl" "wget" ]))
  (t.case "nested attribute paths" [ "libSM-drv" "libXext-drv" ] (resolve { } [ "libsm6" "libxext6" ]))
  (t.case "cognix.systemPackages wins over the table" [ "my-ffmpeg" ] (resolve { ffmpeg = "my-ffmpeg"; } [ "ffmpeg" ]))
  (t.case "cognix.systemPackages may map a name to a list" [ "a" "b" ] (resolve { ebsynth = [ "a" "b" ]; } [ "ebsynth" ]))
  (t.case "unknown names fail evaluation" true (t.fails (builtins.deepSeq (resolve { } [ "libfoo9" ]) null)))
  (t.case "attribute missing from nixpkgs fails" true (t.fails (builtins.deepSeq (resolve { } [ "sox" ]) null)))
  (t.case "empty list" [ ] (resolve { } [ ]))
  (t.case "table values are lists of attribute paths" true
    (builtins.all (v: builtins.isList v && builtins.all builtins.isString v) (builtins.attrValues table)))
  (t.case "table covers the documented names" true
    (builtins.all (n: table ? ${n}) [ "ffmpeg" "libgl1" "libglib2.0-0" "git" "curl" "wget" "libsm6" "libxext6" "libxrender1" "build-essential" "cmake" "sox" "unzip" "zip" "pkg-config" ]))
]
