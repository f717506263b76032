/*
 * The API reference page of jupyter-qiskit-runtime: Swagger UI on this server's OpenAPI document
 * (jupyter_qiskit_runtime/api_docs.py writes the page; its #swagger-ui element says where the
 * document is and whether "Try it out" is offered).
 *
 * Requests go to this same server with the browser's Jupyter session (its login cookie). Jupyter
 * refuses a cookie-authenticated request other than GET without its XSRF token, so every request
 * carries the `_xsrf` cookie's value in the `X-XSRFToken` header, as JupyterLab's do.
 */
(function () {
  "use strict";

  /** The value of the cookie `name`, or null. */
  function cookie(name) {
    const prefix = name + "=";
    for (const part of document.cookie.split(";")) {
      const item = part.trim();
      if (item.startsWith(prefix)) {
        return item.slice(prefix.length);
      }
    }
    return null;
  }

  /** Swagger UI's request interceptor: Jupyter's XSRF token, and the session's cookies. */
  function withJupyterSession(request) {
    const xsrf = cookie("_xsrf");
    request.headers = request.headers || {};
    if (xsrf) {
      request.headers["X-XSRFToken"] = xsrf;
    }
    request.credentials = "same-origin";
    return request;
  }

  function start() {
    const root = document.getElementById("swagger-ui");
    const tryItOut = root.dataset.tryItOut === "true";
    window.ui = SwaggerUIBundle({
      url: root.dataset.openapiUrl,
      domNode: root,
      deepLinking: true,
      displayRequestDuration: true,
      docExpansion: "list",
      defaultModelsExpandDepth: 0,
      filter: true,
      validatorUrl: null,
      supportedSubmitMethods: tryItOut ? ["get", "put", "post", "delete", "patch"] : [],
      requestInterceptor: withJupyterSession,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
    });
    /** fetch() with the same interceptor, for scripts and tests on this page. */
    window.qiskitRuntimeFetch = function (url, init) {
      const request = withJupyterSession({ url: url, headers: {}, ...(init || {}) });
      return fetch(request.url, request);
    };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
