/* Attempt page, progressive enhancement: the page works without this file (one form per
   page, "Lưu và tiếp"). With it, each question is saved to the server as soon as it
   changes, a status line says so, failed saves are retried, and a countdown shows the
   time the server gives. Texts come from the page (data-* attributes), so they are translated.
   Nothing about scoring ever reaches this file or the page it runs on. */
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var url = form.getAttribute("data-autosave-url");
  var statusLine = document.getElementById("save-status");
  var tokenField = form.querySelector("input[name=csrf_token]");
  var token = tokenField ? tokenField.value : "";
  var timers = {};
  var tries = {};

  function say(text, state) {
    statusLine.textContent = text;
    statusLine.className = "save-status is-" + state;
  }

  function fieldsOf(fieldset) {
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("position", fieldset.getAttribute("data-position"));
    var inputs = fieldset.querySelectorAll("input, select, textarea");
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { continue; }
      if (el.name) { data.append(el.name, el.value); }
    }
    return data;
  }

  function retryLater(fieldset) {
    var position = fieldset.getAttribute("data-position");
    tries[position] = (tries[position] || 0) + 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, tries[position]));
    say(statusLine.getAttribute(tries[position] > 3 ? "data-offline" : "data-retrying"), "error");
    clearTimeout(timers[position]);
    timers[position] = setTimeout(function () { save(fieldset); }, delay);
  }

  // One request per question at a time: a change made while a save is on its way is sent
  // when it returns, so the server always ends with the latest answer (never an older
  // request that happened to arrive last).
  var inflight = {};
  var dirty = {};

  function save(fieldset) {
    var position = fieldset.getAttribute("data-position");
    clearTimeout(timers[position]);
    if (inflight[position]) { dirty[position] = true; return; }
    inflight[position] = true;
    dirty[position] = false;
    var finished = function (again) {
      inflight[position] = false;
      if (again && dirty[position]) { save(fieldset); }
    };
    say(statusLine.getAttribute("data-saving"), "saving");
    fetch(url, {
      method: "POST",
      body: fieldsOf(fieldset),
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.ok === true) {
          tries[position] = 0;
          fieldset.classList.remove("has-error");
          say(body.message || "", "saved");
          finished(true);
        } else if (response.status === 409) {
          say(body.message || "", "error");  // closed or out of time: show the result
          finished(false);
          if (body.next) { setTimeout(function () { window.location.assign(body.next); }, 1500); }
        } else if (response.status === 400 && body.message) {
          fieldset.classList.add("has-error");
          say(body.message, "error");  // the answer itself is not acceptable: no retry
          finished(true);
        } else if (response.redirected || response.status === 401) {
          say(statusLine.getAttribute("data-signed-out"), "error");  // signed out meanwhile
          finished(false);
        } else {
          finished(true);
          if (!inflight[position]) { retryLater(fieldset); }
        }
      });
    }).catch(function () {
      finished(true);
      if (!inflight[position]) { retryLater(fieldset); }
    });
  }

  function onChange(event) {
    var fieldset = event.target.closest("fieldset[data-position]");
    if (!fieldset) { return; }
    var position = fieldset.getAttribute("data-position");
    if (event.type === "input") {
      if (event.target.type !== "text") { return; }  // boxes and lists report on "change"
      clearTimeout(timers[position]);
      timers[position] = setTimeout(function () { save(fieldset); }, 800);  // still typing
    } else {
      save(fieldset);
    }
  }

  form.addEventListener("change", onChange);
  form.addEventListener("input", onChange);

  var timer = document.getElementById("timer");
  var shown = document.getElementById("timer-value");
  if (timer && shown) {
    var end = Date.now() + 1000 * parseInt(timer.getAttribute("data-remaining"), 10);
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      var seconds = left % 60;
      shown.textContent = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
      if (left <= 0) {
        clearInterval(interval);
        timer.classList.add("is-over");
        shown.textContent = timer.getAttribute("data-expired");
        setTimeout(function () { window.location.reload(); }, 1500);  // the server submits
      } else if (left <= 60) {
        timer.classList.add("is-ending");
      }
    };
    var interval = setInterval(tick, 1000);
    tick();
  }
})();
