"""update-alternatives calls read from postinst scripts (shapes taken from Debian bookworm's packages), and dpkg's
automatic choice among them."""

from __future__ import annotations

import pytest

from cognix.store.alternatives import Chosen, Install, Slave, choose, expand, parse_call, read_postinst

LIBBLAS3 = """#!/bin/sh

set -e

update-alternatives --install /usr/lib/x86_64-linux-gnu/libblas.so.3 \\
                    libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 10



exit 0
"""

MAWK = """#!/bin/sh
set -e
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ]; then
        update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\
            --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz \\
            --slave /usr/bin/nawk nawk /usr/bin/mawk
fi
"""

IMAGEMAGICK = """#!/bin/sh -e
if [ "$1" = "configure" ]
then
    for prog in compare convert identify; do
	if dpkg --compare-versions "$2" lt-nl "8:6.9.2.10+dfsg-3"; then
	    if  update-alternatives --list $prog > /dev/null 2>&1; then
		update-alternatives --remove-all $prog
	    fi
	fi
	update-alternatives --install /usr/bin/$prog \\
	                    $prog /usr/bin/$prog-im6.q16 10000 \\
	                    --slave /usr/share/man/man1/$prog.1.gz \\
	                    $prog.1.gz /usr/share/man/man1/$prog-im6.q16.1.gz
    done
fi
"""

DEBIANUTILS = """#! /bin/sh -e

ua() {
	update-alternatives --install /usr/bin/which which /usr/bin/which.debianutils 0 \\
		--slave /usr/share/man/man1/which.1.gz which.1.gz /usr/share/man/man1/which.debianutils.1.gz
}

case "$1" in
    (configure)
	update-shells
	ua
    ;;
    (abort-upgrade|abort-remove|abort-deconfigure)
	ua
    ;;
    (*)
        echo "postinst called with unknown argument \\`$1'" >&2
        exit 1
    ;;
esac
"""

OPENJDK = """#!/bin/sh
set -e
multiarch=x86_64-linux-gnu
priority=1711
basedir=/usr/lib/jvm/java-17-openjdk-amd64
mandir=$basedir/man
srcext=1.gz
dstext=1.gz
jre_tools='java keytool'
case "$1" in
configure)
    if [ -z "$2" ]; then
	update_alternatives=y
    fi
    if [ "$update_alternatives" = y ]; then
    if [ -n "$multiarch" ] && [ "$DPKG_MAINTSCRIPT_ARCH" != $(dpkg --print-architecture) ]; then
	priority=$(expr $priority - 1)
    fi
    for i in $jre_tools; do
	unset slave1 slave2 || true
        if [ -e $mandir/man1/$i.$srcext ]; then
	    slave1="--slave \\
		/usr/share/man/man1/$i.$dstext \\
                $i.$dstext \\
                $mandir/man1/$i.$srcext"
	fi
        update-alternatives \\
            --install \\
            /usr/bin/$i \\
            $i \\
            $basedir/bin/$i \\
            $priority \\
	    $slave1 $slave2
    done
    fi # update alternatives
    ;;
esac
exit 0
"""

XZ = """#!/bin/sh
set -e
slave () {
	dir=$1 filename=$2 target=$3
	echo "--slave $dir/$filename $filename $dir/$target"
}
update-alternatives --install /usr/bin/lzma lzma /usr/bin/xz 20 $(
	slave /usr/share/man/man1 lzma.1.gz xz.1.gz
	slave /usr/bin unlzma unxz
)
"""


def test_continuation_lines() -> None:
    assert read_postinst(LIBBLAS3) == ([Install("/usr/lib/x86_64-linux-gnu/libblas.so.3",
                                                "libblas.so.3-x86_64-linux-gnu",
                                                "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", 10)], [])


def test_slaves() -> None:
    (inst,), notes = read_postinst(MAWK)
    assert notes == [] and (inst.link, inst.name, inst.path, inst.priority) == ("/usr/bin/awk", "awk", "/usr/bin/mawk", 5)
    assert inst.slaves == (Slave("/usr/share/man/man1/awk.1.gz", "awk.1.gz", "/usr/share/man/man1/mawk.1.gz"),
                           Slave("/usr/bin/nawk", "nawk", "/usr/bin/mawk"))


def test_for_loops_register_each_word() -> None:
    installs, notes = read_postinst(IMAGEMAGICK)
    assert notes == []
    assert [(i.link, i.path, i.priority) for i in installs] == [
        (f"/usr/bin/{p}", f"/usr/bin/{p}-im6.q16", 10000) for p in ("compare", "convert", "identify")]
    assert installs[1].slaves == (Slave("/usr/share/man/man1/convert.1.gz", "convert.1.gz",
                                        "/usr/share/man/man1/convert-im6.q16.1.gz"),)


def test_shell_functions_are_read_when_called_once_per_call_site() -> None:
    installs, notes = read_postinst(DEBIANUTILS)
    assert notes == []
    assert installs == [Install("/usr/bin/which", "which", "/usr/bin/which.debianutils", 0,
                                (Slave("/usr/share/man/man1/which.1.gz", "which.1.gz",
                                       "/usr/share/man/man1/which.debianutils.1.gz"),))]


def test_variables_and_a_known_value_surviving_an_unknown_one() -> None:
    installs, notes = read_postinst(OPENJDK)
    assert notes == []
    assert [(i.link, i.name, i.path, i.priority) for i in installs] == [
        ("/usr/bin/java", "java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", 1711),
        ("/usr/bin/keytool", "keytool", "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool", 1711)]
    assert installs[0].slaves == (Slave("/usr/share/man/man1/java.1.gz", "java.1.gz",
                                        "/usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz"),)


def test_slaves_computed_by_a_command_are_dropped_with_a_note() -> None:
    (inst,), notes = read_postinst(XZ)
    assert (inst.link, inst.path, inst.priority, inst.slaves) == ("/usr/bin/lzma", "/usr/bin/xz", 20, ())
    assert len(notes) == 1 and "/usr/bin/lzma" in notes[0] and "computed by the script" in notes[0]


def test_comments_heredocs_and_quotes() -> None:
    script = """#!/bin/sh
# update-alternatives --install /usr/bin/no no /usr/bin/nope 1
cat <<EOF >/dev/null
update-alternatives --install /usr/bin/heredoc h /usr/bin/h 1
don't
EOF
update-alternatives --install "/usr/bin/with space" 'q' /usr/bin/q 3 # trailing comment
update-alternatives --install /usr/bin/c++ c++ /usr/bin/g++ 20 \\
    #--slave /usr/share/man/man1/c++.1.gz c++.1.gz /usr/share/man/man1/g++.1.gz
update-alternatives --quiet --install /usr/bin/pager pager /usr/bin/less 77 >/dev/null 2>&1 || true
"""
    installs, notes = read_postinst(script)
    assert notes == []
    assert [(i.link, i.name, i.priority, i.slaves) for i in installs] == [
        ("/usr/bin/with space", "q", 3, ()), ("/usr/bin/c++", "c++", 20, ()), ("/usr/bin/pager", "pager", 77, ())]


def test_unknown_link_is_skipped_with_a_note_and_other_actions_are_ignored() -> None:
    script = """
name=$(basename $0)
update-alternatives --install /usr/bin/$name $name /usr/bin/x 1
update-alternatives --remove foo /usr/bin/foo
update-alternatives --set editor /usr/bin/vim
"""
    installs, notes = read_postinst(script)
    assert installs == [] and len(notes) == 1 and "was not read" in notes[0]


def test_unreadable_script_is_a_note_only_when_it_calls_update_alternatives() -> None:
    assert read_postinst("echo 'unterminated\n") == ([], [])
    installs, notes = read_postinst("update-alternatives --install /a a /b 1\necho 'unterminated\n")
    assert installs == [] and "could not be read" in notes[0]


@pytest.mark.parametrize(("word", "env", "fields"), [
    ("$x", {"x": "a b"}, ["a", "b"]),
    ('"$x"', {"x": "a b"}, ["a b"]),
    ("${x:-dflt}", {}, ["dflt"]),
    ("${x:+alt}", {"x": "1"}, ["alt"]),
    ("pre${x}post", {"x": "-"}, ["pre-post"]),
    ("''", {}, [""]),
    ("$unset", {}, []),
    ("a\\ b", {}, ["a b"]),
])
def test_expansion(word: str, env: dict, fields: list[str]) -> None:
    assert expand(word, env) == fields


def test_parse_call_options_and_bad_priority() -> None:
    assert parse_call(["--altdir", "/x", "--quiet", "--install", "/l", "n", "/p", "5"])[0] == Install("/l", "n", "/p", 5)
    assert parse_call(["--install", "/l", "n", "/p", "high"])[0] is None
    inst, note = parse_call(["--install", "/l", "n", "/p", "5", "--slave", "/s"])
    assert inst == Install("/l", "n", "/p", 5) and "were not read" in note
    assert parse_call(["--config", "editor"]) == (None, None)


def test_choice_priority_tie_and_missing_paths() -> None:
    present = {"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", "/usr/lib/x86_64-linux-gnu/openblas/libblas.so.3",
               "/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3", "/usr/bin/mawk", "/usr/share/man/man1/mawk.1.gz"}
    link, name = "/usr/lib/x86_64-linux-gnu/libblas.so.3", "libblas.so.3-x86_64-linux-gnu"
    registered = [
        ("libblas3", Install(link, name, "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", 10)),
        ("libopenblas0", Install(link, name, "/usr/lib/x86_64-linux-gnu/openblas/libblas.so.3", 100)),
        ("libatlas3-base", Install(link, name, "/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3", 100)),
        ("ghost", Install(link, name, "/usr/lib/x86_64-linux-gnu/ghost/libblas.so.3", 1000)),  # not in the image
        ("mawk", Install("/usr/bin/awk", "awk", "/usr/bin/mawk", 5, (
            Slave("/usr/share/man/man1/awk.1.gz", "awk.1.gz", "/usr/share/man/man1/mawk.1.gz"),
            Slave("/usr/bin/nawk-missing", "nawk", "/usr/bin/nawk.absent")))),
        ("gone", Install("/usr/bin/gone", "gone", "/usr/bin/gone.real", 1)),
    ]
    chosen = choose(registered, present.__contains__)
    assert [c.name for c in chosen] == ["awk", name]  # sorted by name; `gone` has no choice left
    awk, blas = chosen
    assert blas == Chosen(name, link, "/usr/lib/x86_64-linux-gnu/atlas/libblas.so.3", 100, "libatlas3-base")  # tie: path
    assert awk.slaves == (Slave("/usr/share/man/man1/awk.1.gz", "awk.1.gz", "/usr/share/man/man1/mawk.1.gz"),)
    assert awk.links() == [("/etc/alternatives/awk", "/usr/bin/mawk"), ("/usr/bin/awk", "/etc/alternatives/awk"),
                           ("/etc/alternatives/awk.1.gz", "/usr/share/man/man1/mawk.1.gz"),
                           ("/usr/share/man/man1/awk.1.gz", "/etc/alternatives/awk.1.gz")]
    # the registration order does not matter
    assert choose(list(reversed(registered)), present.__contains__) == chosen
