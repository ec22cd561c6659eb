// The jobs tray's clock (Streamlit components v2, no iframe). Two roles, by `data.role`:
//   "clock"  in the tray's fragment: while a job is queued or running (`data.active`) it asks for a rerun
//            of that fragment every `data.every_ms` (elapsed times, partial images, a job that ended), and
//            at once when a page says it sent a job; idle, it asks nothing.
//   "signal" in a page's own fragment (Generate, Edit): `data.seq` counts the jobs this session sent; when
//            it grows, the page has just queued one, and the tray is told, so the job shows there without
//            a run of the whole page.
// A trigger reruns only the fragment the element is in.

const EVENT = "studio-jobs-sent";
const CLOCKS = new WeakMap(); // host element -> {timer, listener}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const d = data || {};
  if (d.role === "signal") {
    const last = window.__studioJobsSeq;
    window.__studioJobsSeq = d.seq;
    // The first look after a (re)load only learns the count; a larger count later is a job just sent.
    if (last !== undefined && d.seq > last) window.dispatchEvent(new CustomEvent(EVENT));
    return;
  }
  let clock = CLOCKS.get(parentElement);
  if (!clock) {
    clock = { timer: null, tick: null };
    clock.listener = () => clock.tick();
    window.addEventListener(EVENT, clock.listener);
    CLOCKS.set(parentElement, clock);
  }
  clock.tick = () => setTriggerValue("tick", Date.now()); // this render's setter
  if (clock.timer) clearTimeout(clock.timer);
  clock.timer = d.active ? setTimeout(() => { clock.timer = null; clock.tick(); }, d.every_ms || 1000) : null;
  return () => {
    if (clock.timer) clearTimeout(clock.timer);
    window.removeEventListener(EVENT, clock.listener);
    CLOCKS.delete(parentElement);
  };
}
