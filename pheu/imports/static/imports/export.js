// Export links follow the list's current filters: the list pushes them into the address bar as they change.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-export-base]");
  if (link) link.href = link.dataset.exportBase + window.location.search;
});
