// Sets (or, with an empty value, clears) the studio's sign-in cookie. st.html runs this in the app's own
// document (not an iframe), so the cookie belongs to the studio's origin, and the server reads it back
// through st.context.cookies when the page is loaded again. No library, nothing fetched.
(function () {
  for (const holder of document.querySelectorAll("[data-studio-cookie]")) {
    const name = holder.dataset.name;
    const value = holder.dataset.value || "";
    const maxAge = value ? Number(holder.dataset.maxAge) : 0;
    const secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `${name}=${value}; Max-Age=${maxAge}; Path=/; SameSite=Strict${secure}`;
    holder.removeAttribute("data-studio-cookie");
  }
})();
