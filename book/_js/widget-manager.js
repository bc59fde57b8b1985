// The book's widget manager for the static site: it draws the ipywidgets explorers from the
// widget state that each page embeds, with the ipywidgets classes themselves
// (@jupyter-widgets/controls, the same as in Jupyter), and keeps their jslinks working with
// no kernel. It stands in for @jupyter-widgets/html-manager's embed.js, which carries every
// widget, a JSON-schema validator and the output widget's renderers (1.9 MB, about 0.25 s of
// script before the first explorer): this one holds only the classes below, and no HTML
// sanitizer (text-only-descriptions.js stands in for it): 0.43 MB.
// book/_ext/widget_manager.py bundles it with esbuild and refuses a page whose widgets use a
// class missing from CLASSES.
import { ManagerBase } from '@jupyter-widgets/base-manager';
import { DOMWidgetModel, DOMWidgetView, LayoutModel, LayoutView, StyleModel, StyleView } from '@jupyter-widgets/base';
import { BoxModel, BoxView, HBoxModel, HBoxView, VBoxModel, VBoxView } from '@jupyter-widgets/controls/lib/widget_box';
import { DirectionalLinkModel, LinkModel } from '@jupyter-widgets/controls/lib/widget_link';
import { SliderStyleModel } from '@jupyter-widgets/controls/lib/widget_int';
import { SelectionSliderModel, SelectionSliderView } from '@jupyter-widgets/controls/lib/widget_selection';
import { StackModel, StackView } from '@jupyter-widgets/controls/lib/widget_selectioncontainer';
import { HTMLModel, HTMLStyleModel, HTMLView, LabelModel, LabelStyleModel, LabelView } from '@jupyter-widgets/controls/lib/widget_string';
import { Widget } from '@lumino/widgets';
import '@lumino/widgets/style/index.css';
import '@jupyter-widgets/controls/css/widgets-base.css';
import '@jupyter-widgets/controls/css/labvariables.css';

const STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
const VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';

// CLASSES-BEGIN (read by book/_ext/widget_manager.py)
const CLASSES = {
  '@jupyter-widgets/base': { LayoutModel, LayoutView, StyleModel, StyleView },
  '@jupyter-widgets/controls': {
    BoxModel, BoxView, HBoxModel, HBoxView, VBoxModel, VBoxView,
    DirectionalLinkModel, LinkModel,
    HTMLModel, HTMLStyleModel, HTMLView, LabelModel, LabelStyleModel, LabelView,
    SelectionSliderModel, SelectionSliderView, SliderStyleModel,
    StackModel, StackView,
  },
};
// CLASSES-END

const FAILED = 'This explorer could not be drawn';

// A class the manager lacks is stood in for by a plain model and a view that says what is
// missing, so that the reader sees a sentence instead of a blank space, and the rest draws.
function missing(moduleName, className) {
  const what = `the book's widget manager has no ${moduleName} ${className}`;
  console.error(what);
  return className.endsWith('View')
    ? class extends DOMWidgetView {
      render() {
        this.el.classList.add('rnnbook-widget-error');
        this.el.textContent = `${FAILED} (${what}).`;
      }
    }
    : DOMWidgetModel;
}

class StaticManager extends ManagerBase {
  loadClass(className, moduleName) {
    return Promise.resolve((CLASSES[moduleName] || {})[className] || missing(moduleName, className));
  }

  _get_comm_info() {
    return Promise.resolve({});
  }

  _create_comm() {  // no kernel: the models live in the page
    return Promise.resolve({ on_close() {}, on_msg() {}, close() {} });
  }
}

function stylesheet() {
  // The widgets' CSS sits beside this script; it is loaded by this script, so that pages
  // without widgets never fetch it and the text never waits for it.
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = document.currentScript.src.replace(/\.js(\?.*)?$/, '.css');
  return new Promise((resolve) => {
    link.onload = link.onerror = resolve;
    document.head.appendChild(link);
  });
}

async function show(manager, models, tag) {
  const place = document.createElement('div');
  place.className = 'widget-subarea';
  tag.parentElement.insertBefore(place, tag);
  try {
    const { model_id: id } = JSON.parse(tag.textContent);
    const model = models.find((m) => m.model_id === id);
    if (!model) {
      throw new Error(`no widget ${id} in the page's state`);
    }
    Widget.attach((await manager.create_view(model)).luminoWidget, place);
  } catch (error) {
    place.className = 'widget-subarea rnnbook-widget-error';
    place.textContent = `${FAILED} (${error.message}).`;
    console.error(error);
  }
}

async function render() {
  // myst-nb writes one state per page, for all of the page's widgets.
  const manager = new StaticManager();
  const models = await manager.set_state(JSON.parse(document.querySelector(STATE).textContent));
  await Promise.all([...document.querySelectorAll(VIEW)].map((tag) => show(manager, models, tag)));
  document.dispatchEvent(new Event('rnnbook:widgets-rendered'));
}

const styled = stylesheet();
const parsed = document.readyState === 'loading'
  ? new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve))
  : Promise.resolve();
Promise.all([styled, parsed]).then(render);
