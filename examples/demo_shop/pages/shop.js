// The demo shop's own script: a cart counter, kept for the visit, so that "Add to cart"
// does something an agent can see (and, with control, do) during co-browse.
(() => {
  const count = document.getElementById("cart-count");
  const read = () => Number(sessionStorage.getItem("shop.cart") || 0);
  count.textContent = String(read());
  // the demo's forms go nowhere
  for (const form of document.querySelectorAll("form")) form.addEventListener("submit", (e) => e.preventDefault());
  for (const button of document.querySelectorAll("button.add")) {
    button.addEventListener("click", () => {
      sessionStorage.setItem("shop.cart", String(read() + 1));
      count.textContent = String(read());
    });
  }
})();
