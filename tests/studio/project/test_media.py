"""Bringing a media file into a project: copied into media/, a new name on a clash, an
identical copy reused, a file inside the project kept, links and special files refused."""

from __future__ import annotations

import os

import pytest

from studio.errors import StudioError
from studio.project.media import import_media, place_media


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "film"
    folder.mkdir()
    return folder


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "castle.png"
    path.write_bytes(b"castle pixels")
    return path


def test_a_new_file_is_copied_into_media(project, source):
    assert import_media(project, source) == "media/castle.png"
    assert (project / "media" / "castle.png").read_bytes() == b"castle pixels"


def test_the_copy_waits_until_asked_for(project, source):
    place = place_media(project, source)
    assert place.relative == "media/castle.png" and place.new
    assert not (project / "media").exists()
    place.copy()
    assert place.path.read_bytes() == b"castle pixels"


def test_a_subfolder_of_media_is_created(project, source):
    assert import_media(project, source, "media/pictures") == "media/pictures/castle.png"
    assert (project / "media" / "pictures" / "castle.png").is_file()


def test_a_clash_with_another_file_gets_a_new_name(project, source, tmp_path):
    import_media(project, source)
    source.write_bytes(b"other pixels")
    assert import_media(project, source) == "media/castle-2.png"
    other = tmp_path / "elsewhere" / "castle.png"
    other.parent.mkdir()
    other.write_bytes(b"third pixels")
    assert import_media(project, other) == "media/castle-3.png"
    media = project / "media"
    assert (media / "castle.png").read_bytes() == b"castle pixels"
    assert (media / "castle-2.png").read_bytes() == b"other pixels"
    assert (media / "castle-3.png").read_bytes() == b"third pixels"


def test_an_identical_file_is_reused(project, source):
    import_media(project, source)
    source.write_bytes(b"other pixels")
    import_media(project, source)  # castle-2.png
    place = place_media(project, source)
    assert place.relative == "media/castle-2.png" and not place.new
    assert sorted(p.name for p in (project / "media").iterdir()) == ["castle-2.png", "castle.png"]


def test_a_file_inside_the_project_is_kept_where_it_is(project, source):
    inside = project / "media" / "frame.png"
    inside.parent.mkdir()
    inside.write_bytes(b"frame")
    place = place_media(project, inside)
    assert place.relative == "media/frame.png" and not place.new
    assert import_media(project, project / "media" / ".." / "media" / "frame.png") == (
        "media/frame.png"
    )
    elsewhere = project / "plates" / "sky.png"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"sky")
    assert import_media(project, elsewhere) == "plates/sky.png"
    assert sorted(p.name for p in inside.parent.iterdir()) == ["frame.png"]


def test_a_missing_file_is_refused(project, tmp_path):
    with pytest.raises(StudioError, match="does not exist"):
        import_media(project, tmp_path / "gone.png")


def test_a_folder_and_a_fifo_are_refused(project, tmp_path):
    folder = tmp_path / "pictures.png"
    folder.mkdir()
    with pytest.raises(StudioError, match="not a regular file"):
        import_media(project, folder)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.wav"
        os.mkfifo(fifo)
        with pytest.raises(StudioError, match="not a regular file"):
            import_media(project, fifo)
    assert not (project / "media").exists()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_link_is_refused_outside_and_inside_the_project(project, source):
    link = source.with_name("link.png")
    link.symlink_to(source)
    with pytest.raises(StudioError, match="symbolic link"):
        import_media(project, link)
    (project / "media").mkdir()
    inside = project / "media" / "link.png"
    inside.symlink_to(source)
    with pytest.raises(StudioError, match="symbolic link"):
        import_media(project, inside)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_linked_media_folder_is_refused(project, source, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "media").symlink_to(outside)
    with pytest.raises(StudioError, match="symbolic link"):
        import_media(project, source)
    assert list(outside.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_link_under_the_name_is_never_reused_nor_written_through(project, source, tmp_path):
    target = tmp_path / "victim.png"
    target.write_bytes(b"castle pixels")  # the same content: still not reused
    (project / "media").mkdir()
    (project / "media" / "castle.png").symlink_to(target)
    assert import_media(project, source) == "media/castle-2.png"
    assert target.read_bytes() == b"castle pixels"
    assert (project / "media" / "castle-2.png").read_bytes() == b"castle pixels"


def test_a_failed_copy_says_why_and_leaves_no_file(project, source, monkeypatch):
    import studio.project.media as media

    def broken(_reader, _writer, _size):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(media.shutil, "copyfileobj", broken)
    with pytest.raises(StudioError, match="cannot copy castle.png into the project"):
        import_media(project, source)
    assert list((project / "media").iterdir()) == []


def test_a_file_put_in_place_after_the_check_is_not_replaced(project, source):
    place = place_media(project, source)
    (project / "media").mkdir()
    place.path.write_bytes(b"someone else's")
    with pytest.raises(StudioError, match="cannot copy castle.png"):
        place.copy()
    assert place.path.read_bytes() == b"someone else's"
