/* cnnbook quizzes on the static website: check the number a reader typed, without a kernel.
 * Each question is a <form data-quiz="number"> written by cnnbook.quiz (Python), which says the same
 * words in JupyterLab (NumberQuiz.check); keep the two in step. */
(function () {
  "use strict";
  // cnnbook.quiz.NUMBER_PATTERN, character for character.
  var NUMBER = /^[+-]?(?:[0-9]{1,3}(?:([,_ ])[0-9]{3})(?:\1[0-9]{3})*|[0-9]+)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?$|^[+-]?\.[0-9]+(?:[eE][+-]?[0-9]+)?$/;
  var RELATIVE_SLACK = 1e-9;

  function parseDecimal(text) {
    return NUMBER.test(text) ? Number(text.replace(/[,_ ]/g, "")) : null;
  }

  function parseNumber(text) {
    var parts = text.trim().replace(/\u2212/g, "-").split("/").map(function (p) { return p.trim(); });
    if (parts.length > 2) return null;
    var values = parts.map(parseDecimal);
    if (values.indexOf(null) >= 0) return null;
    if (values.length === 2) {
      if (values[1] === 0) return null;
      values = [values[0] / values[1]];
    }
    return isFinite(values[0]) ? values[0] : null;
  }

  function verdict(form, text) {
    var d = form.dataset, typed = text.trim();
    if (!typed) return ["invalid", "Type a number first, then press Enter or Check."];
    var value = parseNumber(typed);
    if (value === null) {
      return ["invalid", "\u201c" + typed + "\u201d is not a number: type digits, such as 4, 2.5, \u22120.25 or 1/4."];
    }
    var answer = Number(d.answer);
    var slack = Number(d.tolerance) + RELATIVE_SLACK * Math.max(1, Math.abs(answer));
    if (Math.abs(value - answer) <= slack) return ["right", "\u2713 Right: " + d.answerText + ". " + d.why];
    return ["wrong", "\u2717 Not quite: you typed " + typed + ", the answer is " + d.answerText + ". " + d.why];
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-quiz]")) return;
    event.preventDefault();
    var result = verdict(form, form.querySelector("[data-quiz-input]").value);
    form.dataset.verdict = result[0];
    form.querySelector("[data-quiz-feedback]").textContent = result[1];
  });
})();
