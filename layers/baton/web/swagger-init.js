// Swagger UI for Baton, from Baton's own assets. The token given to "Authorize" stays in this
// page's memory (persistAuthorization off: nothing in localStorage); no validator badge (it
// would call a third-party host).
"use strict";
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  persistAuthorization: false,
  validatorUrl: null,
  deepLinking: true,
  docExpansion: "list",
});
