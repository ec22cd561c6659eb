// The Gallery lightbox's keys: ← and → step through the current view, f toggles the favourite.
// (Esc closes the dialog by itself.) Keys typed into a field are left alone.

let listening = null;

export default function (component) {
  const { setTriggerValue, parentElement } = component;
  if (listening) document.removeEventListener("keydown", listening, true);
  const onKey = (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
    const target = event.composedPath()[0];
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName || ""))) return;
    const key = event.key === "ArrowLeft" ? "prev" : event.key === "ArrowRight" ? "next"
      : event.key === "f" || event.key === "F" ? "fav" : null;
    if (!key) return;
    event.preventDefault();
    event.stopPropagation();
    setTriggerValue("key", key);
  };
  document.addEventListener("keydown", onKey, true);
  listening = onKey;
  const hint = parentElement.querySelector(".hint");
  if (hint) hint.hidden = false; // listening now
  return () => {
    document.removeEventListener("keydown", onKey, true);
    if (listening === onKey) listening = null;
  };
}
