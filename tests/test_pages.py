"""The Generate and Gallery pages, driven headlessly with Streamlit's AppTest."""


from streamlit.testing.v1 import AppTest

from studio.services.jobs import wait_for_jobs
from tests.conftest import ROOT, TEST_KEY, status_boxes


def open_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


def press(at: AppTest, label: str) -> AppTest:
    """Click, then (a Generate runs as a background job) wait for the jobs and look again, as the page's
    refresh does in a browser."""
    next(b for b in at.button if b.label == label).click()
    at.run()
    if any(state == "running" for state, _ in status_boxes(at)):  # a job was sent (bad input sends none)
        assert wait_for_jobs(60)
        at.run()
    return at


def test_generate_shows_the_image_and_revised_prompt(studio_env):
    at = open_app()
    assert not at.exception
    next(t for t in at.text_area if t.label == "Prompt").input("a teapot in the rain")
    at.selectbox(key="quality").select("high")
    at.number_input(key="n").set_value(2)
    at.toggle(key="live_preview").set_value(False)  # streamed results carry no revised_prompt at the API
    press(at, "Generate")
    assert not at.exception and not at.error
    assert len(at.image) == 2
    texts = [t.value for t in at.text]
    assert "A detailed rendering of: a teapot in the rain" in texts
    captions = " ".join(c.value for c in at.caption)
    assert "1024x1024 · png" in captions and "tokens" in captions
    assert [d.label for d in at.get("download_button")] == ["Download", "Download"]
    assert at.query_params["generation"] == "1"
    assert TEST_KEY not in str([e.proto for e in at.main]) + str([e.proto for e in at.sidebar])


def test_a_refused_prompt_shows_its_message(studio_env):
    at = open_app()
    next(t for t in at.text_area if t.label == "Prompt").input("nope [demo:fail=moderation]")
    press(at, "Generate")
    assert len(at.error) == 1
    assert "safety system refused this prompt" in at.error[0].value
    assert "kept in the gallery as generation #1" in at.error[0].value
    assert not at.exception


def test_bad_input_is_explained_on_the_page(studio_env, demo_server):
    before = demo_server.config.requests_seen
    at = open_app()
    at.selectbox(key="output_format").select("jpeg").run()
    at.selectbox(key="background").select("transparent")
    press(at, "Generate")
    messages = [e.value for e in at.error]
    assert "The prompt is empty; describe the image you want." in messages
    assert any("transparent background needs png or webp" in m for m in messages)
    assert demo_server.config.requests_seen == before


def test_output_compression_only_when_it_applies(studio_env):
    at = open_app()
    assert not [s for s in at.slider if s.label == "output_compression"]
    at.selectbox(key="output_format").select("webp").run()
    assert [s.label for s in at.slider] == ["output_compression"]


def test_last_result_is_still_there_after_a_restart(studio_env):
    at = open_app()
    next(t for t in at.text_area if t.label == "Prompt").input("kept for later")
    press(at, "Generate")
    fresh = open_app()  # a new session, as after restarting the app
    assert "Last result: generation #1" in [s.value for s in fresh.subheader]
    assert len(fresh.image) == 1


def test_no_key_says_so_and_offers_the_demo(studio_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    at = open_app()
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "No API key is set" in warning and "OPENAI_API_KEY" in warning
    sidebar_text = " ".join(c.value for c in at.sidebar.caption)
    assert "open.dieyuyun.com" in sidebar_text
    press(at, "Use the demo endpoint")
    assert "offline placeholder images, not a real model" in " ".join(i.value for i in at.sidebar.info)
    next(t for t in at.text_area if t.label == "Prompt").input("demo without a key")
    press(at, "Generate")
    assert not at.error and len(at.image) == 1


def test_openai_preset_never_offers_response_format(studio_env):
    at = open_app()
    at.sidebar.selectbox(key="provider").select("openai").run()
    assert at.selectbox(key="response_format").disabled
    assert at.sidebar.selectbox(key="model").value == "gpt-image-2.6-flare"  # the newest model first (catalog.toml, presets.toml)


def test_unsent_fields_of_every_form_survive_a_look_at_another_page(studio_env):
    """What a user set on Generate, Edit and Compare is still there after a look at the Gallery, including a
    field its page only draws for some choices (output_compression, for jpeg)."""
    at = open_app()
    at.text_area(key="prompt").input("typed, not sent")
    at.selectbox(key="quality").select("high")
    at.selectbox(key="output_format").select("jpeg").run()
    at.slider(key="output_compression").set_value(70).run()
    at.switch_page("views/edit.py").run()
    at.text_area(key="edit_prompt").input("an edit, not sent")
    at.selectbox(key="edit_quality").select("low").run()
    at.switch_page("views/compare.py").run()
    at.text_area(key="compare_prompt").input("compared, not sent")
    at.multiselect(key="compare_quality").set_value(["low", "high"]).run()
    at.switch_page("views/gallery.py").run()
    assert not at.exception
    at.switch_page("views/generate.py").run()
    assert at.text_area(key="prompt").value == "typed, not sent"
    assert (at.selectbox(key="quality").value, at.selectbox(key="output_format").value) == ("high", "jpeg")
    assert at.slider(key="output_compression").value == 70
    at.selectbox(key="output_format").select("png").run()  # the slider is no longer drawn...
    at.selectbox(key="output_format").select("webp").run()  # ...and comes back as it was
    assert at.slider(key="output_compression").value == 70
    at.switch_page("views/edit.py").run()
    assert (at.text_area(key="edit_prompt").value, at.selectbox(key="edit_quality").value) == ("an edit, not sent", "low")
    at.switch_page("views/compare.py").run()
    assert at.text_area(key="compare_prompt").value == "compared, not sent"
    assert at.multiselect(key="compare_quality").value == ["low", "high"]
    assert not at.exception


def test_gallery_lists_successes_and_failures(studio_env):
    at = open_app()
    prompt = next(t for t in at.text_area if t.label == "Prompt")
    prompt.input("first picture")
    press(at, "Generate")
    next(t for t in at.text_area if t.label == "Prompt").input("refused one [demo:fail=moderation]")
    press(at, "Generate")
    at.switch_page("views/gallery.py").run()
    assert not at.exception
    from tests.test_gallery_page import tiles  # what the grid element was sent

    shown = {tile["p"]: tile for tile in tiles(at)}
    assert set(shown) == {"first picture", "refused one [demo:fail=moderation]"}
    assert shown["first picture"]["src"].startswith("data:image/") and shown["refused one [demo:fail=moderation]"]["err"]


def test_a_key_is_never_sent_to_another_provider(studio_env, demo_server):
    """The key configured for one host stays with it when another preset is picked in the sidebar."""
    at = open_app()
    assert "API key: set" in [c.value for c in at.sidebar.caption]
    at.sidebar.selectbox(key="provider").select("openai").run()
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "The API key you set is for 127.0.0.1" in warning and "not sent to api.openai.com" in warning
    before = demo_server.config.requests_seen
    next(t for t in at.text_area if t.label == "Prompt").input("must not leave with the key")
    press(at, "Generate")
    assert any("not sent to api.openai.com" in e.value for e in at.error)
    assert demo_server.config.requests_seen == before
    at.sidebar.selectbox(key="provider").select("custom").run()  # back to the host the key was set for
    assert "API key: set" in [c.value for c in at.sidebar.caption]


def test_a_refused_request_leaves_the_status_box_in_the_error_state(studio_env):
    at = open_app()
    at.text_area(key="prompt").input("nope [demo:fail=moderation]")
    press(at, "Generate")
    [(state, label)] = status_boxes(at)
    assert state == "error" and "failed after" in label and "done" not in label
    assert "safety system refused this prompt" in at.error[0].value


def test_without_a_key_no_job_is_queued_and_the_page_says_why(studio_env, monkeypatch):
    # Background jobs: a missing key is said when Generate is pressed, before a job is recorded (it used to be
    # a status box that failed after the request started).
    monkeypatch.delenv("OPENAI_API_KEY")
    at = open_app()
    at.text_area(key="prompt").input("no key, no request")
    press(at, "Generate")
    assert status_boxes(at) == []
    assert any("No API key is set" in e.value for e in at.error)
    assert "No job queued or running." in [c.value for c in at.sidebar.caption]


def test_a_good_request_leaves_the_status_box_complete(studio_env):
    at = open_app()
    at.text_area(key="prompt").input("a kettle")
    press(at, "Generate")
    [(state, label)] = status_boxes(at)
    assert state == "complete" and "done in" in label


def test_a_refused_edit_leaves_the_status_box_in_the_error_state(studio):
    from studio.core.request import ImageRequest

    source = studio.generate(ImageRequest(prompt="a door", model=studio.settings.model)).images[0]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["source_image"] = str(source.id)
    at.switch_page("views/edit.py").run()
    at.text_area(key="edit_prompt").input("nope [demo:fail=moderation]")
    press(at, "Edit image")
    [(state, label)] = status_boxes(at)
    assert state == "error" and label.startswith("Editing with") and "failed after" in label
    assert "safety system refused this prompt" in at.error[0].value
