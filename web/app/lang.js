// Chooses the page's language before it paints, for the app and the
// course: the reader's saved choice, else the first of the browser's
// languages that Glimpse speaks (Korean or English), else English. The
// text of both languages is in the page: passages marked lang="en" and
// lang="ko", of which the stylesheet shows the half that matches
// <html lang>; and short texts such as labels, which must name their
// control in one language only, written in English with the Korean in a
// data-ko attribute, swapped here. A select with id "language" switches,
// remembers the choice and tells the page's program through a
// "glimpse-language" event on document.
(function () {
  var KEY = 'glimpse.language';
  var SPOKEN = ['en', 'ko'];
  function saved() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function fromBrowser() {
    var langs = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || 'en'];
    for (var i = 0; i < langs.length; i++) {
      var l = String(langs[i]).toLowerCase().split('-')[0];
      if (SPOKEN.indexOf(l) >= 0) return l;
    }
    return 'en';
  }
  function swap(lang) {
    var els = Array.prototype.slice.call(document.querySelectorAll('[data-ko]'));
    // and in templates, so that what a page clones from them later is in the reader's language
    var ts = document.querySelectorAll('template');
    for (var t = 0; t < ts.length; t++) {
      els = els.concat(Array.prototype.slice.call(ts[t].content.querySelectorAll('[data-ko]')));
    }
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.hasAttribute('data-en')) el.setAttribute('data-en', el.textContent);
      el.textContent = el.getAttribute('data-' + lang);
    }
  }
  function set(lang, remember) {
    if (SPOKEN.indexOf(lang) < 0) return;
    document.documentElement.lang = lang;
    swap(lang);
    if (remember) {
      try { localStorage.setItem(KEY, lang); } catch (e) { /* private mode: not remembered */ }
    }
    var sel = document.getElementById('language');
    if (sel) sel.value = lang;
    document.dispatchEvent(new CustomEvent('glimpse-language', { detail: lang }));
  }
  var first = saved();
  document.documentElement.lang = SPOKEN.indexOf(first) >= 0 ? first : fromBrowser();
  globalThis.glimpseLanguage = {
    get: function () { return document.documentElement.lang; },
    set: function (lang) { set(lang, true); },
  };
  document.addEventListener('DOMContentLoaded', function () {
    swap(document.documentElement.lang);
    var sel = document.getElementById('language');
    if (!sel) return;
    sel.value = document.documentElement.lang;
    sel.addEventListener('change', function () { set(sel.value, true); });
  });
})();
